//! The `#[action]` attribute of mcp-actions (placeholder; being written).
use proc_macro::TokenStream;

/// Turns an async function into an action.
#[proc_macro_attribute]
pub fn action(_attr: TokenStream, item: TokenStream) -> TokenStream {
    item
}
