use proc_macro::TokenStream;
/// Placeholder.
#[proc_macro_derive(Module, attributes(module))]
pub fn derive_module(_input: TokenStream) -> TokenStream { TokenStream::new() }
