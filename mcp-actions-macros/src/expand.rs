//! Code generation: the user's function, unchanged, plus its descriptor in `inventory`.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Item, ItemFn};

use crate::confirm::Confirm;
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

/// The span of the item's first token after its attributes (`struct`, `pub`, …).
fn first_token_span(item: &Item) -> Span {
    let mut tokens = quote::ToTokens::to_token_stream(item)
        .into_iter()
        .peekable();
    while let Some(TokenTree::Punct(p)) = tokens.peek() {
        if p.as_char() != '#' {
            break;
        }
        tokens.next(); // `#`
        tokens.next(); // `[...]`
    }
    tokens.next().map_or_else(Span::call_site, |t| t.span())
}

fn descriptor(action: &Action, func: &ItemFn) -> TokenStream {
    let krate = &action.krate;
    let p = quote!(#krate::__private);
    let ident = &action.ident;
    // Spanned on the function's name so `line!()`/`file!()` give the user's definition.
    let location = quote_spanned! {ident.span()=>
        #p::SourceLocation { file: ::core::file!(), line: ::core::line!() }
    };

    // Each user type is checked by exactly one `const`, spanned on the type as written, so a
    // missing derive is one error pointing at that type.
    let input = match &action.input {
        Some(ty) => quote_spanned! {ty.span()=>
            const __MCP_ACTIONS_INPUT: #p::Input<#ty> = #p::input::<#ty>();
        },
        None => quote! {
            const __MCP_ACTIONS_INPUT: #p::Input<#p::NoInput> = #p::input::<#p::NoInput>();
        },
    };
    let (returns, output_schema, finish) = match &action.returns {
        Returns::Result { ok, err } => {
            let output = quote_spanned! {ok.span()=>
                const __MCP_ACTIONS_OUTPUT: #p::Output<#ok> = #p::output::<#ok>();
            };
            let error = quote_spanned! {err.span()=>
                const __MCP_ACTIONS_ERROR: fn(#err) -> #p::ActionError = #p::error::<#err>();
            };
            (
                quote!(#output #error),
                quote!(__MCP_ACTIONS_OUTPUT.schema),
                quote! {
                    match __returned {
                        ::core::result::Result::Ok(output) => (__MCP_ACTIONS_OUTPUT.serialize)(&output),
                        ::core::result::Result::Err(error) => ::core::result::Result::Err(__MCP_ACTIONS_ERROR(error)),
                    }
                },
            )
        }
        Returns::Other(ty) => (
            quote_spanned! {ty.span()=>
                const __MCP_ACTIONS_RETURN: #p::Return<#ty> = #p::returns::<#ty>();
            },
            quote!(__MCP_ACTIONS_RETURN.schema),
            quote!((__MCP_ACTIONS_RETURN.finish)(__returned)),
        ),
    };

    let mut bindings = Vec::new();
    let mut call_args = Vec::new();
    let mut services = Vec::new();
    if action.input.is_none() {
        // No input: still reject anything but an object, as the schema promises.
        bindings.push(quote! { let _ = (__MCP_ACTIONS_INPUT.deserialize)(__arguments)?; });
    }
    for (i, arg) in action.args.iter().enumerate() {
        match arg {
            Arg::Input => {
                bindings.push(quote! {
                    let __input = (__MCP_ACTIONS_INPUT.deserialize)(__arguments)?;
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
    let (confirm_fn, confirm) = confirm(action, &p);
    // The call is spanned on the function's name: a future that is not `Send` is reported there.
    let call = quote_spanned! {func.sig.ident.span()=>
        #p::require_send(#ident(#(#call_args),*)).await
    };

    quote! {
        #[doc(hidden)]
        const _: () = {
            #input
            #returns
            #confirm_fn

            fn __mcp_actions_invoke(
                __ctx: #p::ActionContext,
                __arguments: #p::serde_json::Value,
            ) -> #p::BoxFuture<
                'static,
                ::core::result::Result<#p::serde_json::Value, #p::ActionError>,
            > {
                #p::Box::pin(async move {
                    #(#bindings)*
                    let __returned = #call;
                    #finish
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
                    confirm: #confirm,
                    permission: #permission,
                    services: &[#(#services),*],
                    location: #location,
                    input_schema: __MCP_ACTIONS_INPUT.schema,
                    output_schema: #output_schema,
                    invoke: __mcp_actions_invoke,
                }
            }
        };
    }
}

/// The confirmation's render function (for a message) and the descriptor's `confirm` value.
/// Each field of the message is read from the typed input, spanned on the message: a name that
/// is not a field, or a field that is not `Display`, is reported there by rustc.
fn confirm(action: &Action, p: &TokenStream) -> (TokenStream, TokenStream) {
    match &action.confirm {
        Confirm::No => (TokenStream::new(), quote!(#p::Confirm::No)),
        Confirm::Default => (TokenStream::new(), quote!(#p::Confirm::Default)),
        Confirm::Message {
            lit,
            format,
            fields,
        } => {
            let format = syn::LitStr::new(format, lit.span());
            let body = match &action.input {
                Some(ty) if !fields.is_empty() => {
                    let reads = fields.iter().map(|field| {
                        let field = syn::Ident::new(field, lit.span());
                        quote_spanned!(lit.span()=> __input.#field)
                    });
                    quote! {
                        let __input: #ty = (__MCP_ACTIONS_INPUT.deserialize)(
                            ::core::clone::Clone::clone(__arguments),
                        )?;
                        ::core::result::Result::Ok(#p::format!(#format, #(#reads),*))
                    }
                }
                _ => quote! {
                    let _ = __arguments;
                    ::core::result::Result::Ok(#p::format!(#format))
                },
            };
            (
                quote! {
                    fn __mcp_actions_confirm(
                        __arguments: &#p::serde_json::Value,
                    ) -> ::core::result::Result<#p::String, #p::ActionError> {
                        #body
                    }
                },
                quote!(#p::Confirm::Message(__mcp_actions_confirm)),
            )
        }
    }
}
