//! Collects every error found in one `#[action]`, so they are reported together.

use proc_macro2::TokenStream;

/// An accumulator of `syn::Error`s (serde_derive's `Ctxt`, without the drop check).
#[derive(Default)]
pub struct Errors {
    combined: Option<syn::Error>,
    count: usize,
}

impl Errors {
    /// Records one error.
    pub fn push(&mut self, error: syn::Error) {
        self.count += 1;
        match &mut self.combined {
            Some(combined) => combined.combine(error),
            None => self.combined = Some(error),
        }
    }

    /// How many errors have been recorded.
    pub fn count(&self) -> usize {
        self.count
    }

    /// One `compile_error!` per recorded error, or nothing.
    pub fn into_compile_errors(self) -> TokenStream {
        self.combined
            .map(|e| e.into_compile_error())
            .unwrap_or_default()
    }
}
