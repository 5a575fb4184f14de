//! Code generation: the user's function, unchanged, plus its descriptor in `inventory`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Item, ItemFn};

use crate::errors::Errors;
use crate::validate::{Action, Arg, Returns};
use crate::{attr, validate};

/// The whole expansion of `#[action(attr)] item`.
pub fn action(attr: TokenStream, item: TokenStream) -> TokenStream {
    let func: ItemFn = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(func)) => func,
        Ok(other) => {
            let error = syn::Error::new(
                first_token_span(&other),
                "`#[action]` can only be put on an `async fn`",
            );
            let error = error.into_compile_error();
            return quote!(#error #item);
        }
        // Not an item we understand: let rustc report the syntax error.
        Err(_) => return item,
    };
    let mut errors = Errors::default();
    let args = attr::parse(attr, &mut errors);
    let action = validate::validate(args, &func, &mut errors);
    match action {
        Some(action) if errors.count() == 0 => {
            let descriptor = descriptor(&action, &func);
            quote!(#item #descriptor)
        }
        _ => {
            // Keep the function so that its callers and rust-analyzer still see it; without a
            // descriptor nothing uses it, and a dead-code warning would only add noise.
            let errors = errors.into_compile_errors();
            quote!(#errors #[allow(dead_code)] #item)
        }
    }
}

fn first_token_span(item: &Item) -> Span {
    quote::ToTokens::to_token_stream(item)
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span())
}

fn descriptor(action: &Action, func: &ItemFn) -> TokenStream {
    let krate = &action.krate;
    let p = quote!(#krate::__private);
    let ident = &action.ident;
    // Spanned on the function's name so `line!()`/`file!()` give the user's definition.
    let location = quote_spanned! {ident.span()=>
        #p::SourceLocation { file: ::core::file!(), line: ::core::line!() }
    };

    let input_ty = match &action.input {
        Some(ty) => quote!(#ty),
        None => quote!(#p::NoInput),
    };
    // Each type check is spanned on the user's token, so a missing derive is reported there.
    let input_check = action.input.as_ref().map(|ty| {
        quote_spanned! {ty.span()=> #p::assert_input::<#ty>(); }
    });
    let (output_ty, return_checks, finish) = match &action.returns {
        Returns::Result { ok, err } => (
            quote!(#ok),
            quote! {
                #p::assert_output::<#ok>();
                #p::assert_error::<#err>();
            },
            quote!(#p::finish::<#ok, #err>),
        ),
        Returns::Other(ty) => (
            quote!(<#ty as #p::ActionReturn>::Output),
            quote_spanned! {ty.span()=> #p::assert_return::<#ty>(); },
            quote_spanned!(ty.span()=> #p::finish_return::<#ty>),
        ),
    };
    let return_checks = match &action.returns {
        Returns::Result { ok, err } => {
            let ok_check = quote_spanned! {ok.span()=> #p::assert_output::<#ok>(); };
            let err_check = quote_spanned! {err.span()=> #p::assert_error::<#err>(); };
            quote!(#ok_check #err_check)
        }
        Returns::Other(_) => return_checks,
    };

    let mut bindings = Vec::new();
    let mut call_args = Vec::new();
    let mut services = Vec::new();
    for (i, arg) in action.args.iter().enumerate() {
        match arg {
            Arg::Input => {
                bindings.push(quote! {
                    let __input = #p::deserialize_input::<#input_ty>(__arguments)?;
                });
                call_args.push(quote!(__input));
            }
            Arg::Context => call_args.push(quote!(&__ctx)),
            Arg::Service(ty) => {
                let var = format_ident!("__service_{}", i);
                bindings.push(quote_spanned! {ty.span()=>
                    let #var = #p::service::<#ty>(&__ctx)?;
                });
                call_args.push(quote!(#var));
                services.push(quote_spanned!(ty.span()=> #p::ServiceKey::of::<#ty>()));
            }
        }
    }
    if action.input.is_none() {
        // No input: still reject anything but an object, as the schema promises.
        bindings.insert(
            0,
            quote! { let _ = #p::deserialize_input::<#p::NoInput>(__arguments)?; },
        );
    }

    let name = &action.name;
    let title = &action.title;
    let description = &action.description;
    let plugin = match &action.plugin {
        Some(lit) => quote!(#lit),
        None => quote!(::core::env!("CARGO_PKG_NAME")),
    };
    let read_only = action.read_only;
    let destructive = match action.destructive {
        Some(d) => quote!(::core::option::Option::Some(#d)),
        None => quote!(::core::option::Option::None),
    };
    let idempotent = action.idempotent;
    let open_world = action.open_world;
    let permission = match &action.permission {
        Some(path) => quote_spanned! {path.span()=>
            ::core::option::Option::Some(#p::permission(&#path))
        },
        None => quote!(::core::option::Option::None),
    };
    let call = quote_spanned! {func.sig.ident.span()=> #ident(#(#call_args),*).await };

    quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals, clippy::all)]
        const _: () = {
            #[allow(dead_code)]
            fn __mcp_actions_checks() {
                #input_check
                #return_checks
            }

            fn __mcp_actions_input_schema()
                -> ::core::result::Result<#p::JsonObject, #p::SchemaError>
            {
                #p::input_schema::<#input_ty>()
            }

            fn __mcp_actions_output_schema()
                -> ::core::result::Result<#p::JsonObject, #p::SchemaError>
            {
                #p::output_schema::<#output_ty>()
            }

            fn __mcp_actions_invoke(
                __ctx: #p::ActionContext,
                __arguments: #p::serde_json::Value,
            ) -> #p::BoxFuture<
                'static,
                ::core::result::Result<#p::serde_json::Value, #p::ActionError>,
            > {
                #p::Box::pin(async move {
                    #(#bindings)*
                    #finish(#call)
                })
            }

            #p::inventory::submit! {
                #p::ActionDescriptor {
                    plugin: #plugin,
                    name: #name,
                    title: #title,
                    description: #description,
                    attributes: #p::ActionAttributes::new(
                        #read_only,
                        #destructive,
                        #idempotent,
                        #open_world,
                    ),
                    permission: #permission,
                    services: &[#(#services),*],
                    location: #location,
                    input_schema: __mcp_actions_input_schema,
                    output_schema: __mcp_actions_output_schema,
                    invoke: __mcp_actions_invoke,
                }
            }
        };
    }
}
