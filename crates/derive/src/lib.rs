//! `#[derive(Module)]` for nabla: writes `Module::visit` for a struct of fields, so that
//! `parameters()`, `named_parameters()`, `train()`/`eval()`, `state_dict()` and the rest
//! of `ModuleExt` work on it. Use it through the facade (`nabla::prelude::*`) or
//! `nabla_nn::Module`; the macro and the trait share the name, like serde's `Serialize`.
#![warn(missing_docs)]
//!
//! # Fields
//!
//! | field type | role | names |
//! | --- | --- | --- |
//! | `Tensor`, `Option<Tensor>`, `Vec<Tensor>` | parameters | `w`, `w` if present, `w.0`, `w.1`, ... |
//! | same, with `#[module(buffer)]` | buffers (in the state dict, not in `parameters()`) | as above |
//! | anything else (`Linear`, `Vec<M>`, `Option<M>`, `Box<dyn Layer>`, ...) | child module | `fc1.weight`, `layers.0.bias`, ... |
//! | `#[module(skip)]` | ignored (config numbers, caches) | - |
//!
//! Tensors are recognised by the type's spelling (`Tensor`, possibly path-qualified); a
//! type alias of `Tensor` needs `#[module(param)]`. A child field's type must implement
//! `Module` (`nabla_nn` implements it for `Vec<M>`, `Option<M>` and `Box<M>`).
//!
//! # Where the trait lives
//!
//! The generated code names the trait by an absolute path, by default `::nabla::nn`
//! (the facade crate that user code depends on). A crate that depends on `nabla-nn`
//! directly, not on the facade, says where it is with a struct attribute:
//! `#[module(crate = "nabla_nn")]` (inside `nabla-nn` itself: `#[module(crate = "crate")]`).
//!
//! ```
//! # use nabla_autograd::Tensor;
//! # use nabla_nn as nn;
//! # use nabla_nn::{Module, ModuleExt};
//! // With the facade: `use nabla::prelude::*;` and no `crate` attribute.
//! #[derive(Module)]
//! #[module(crate = "nabla_nn")]
//! struct Mlp {
//!     layers: Vec<nn::Linear>,  // layers.0.weight, layers.0.bias, layers.1.weight, ...
//!     head: Option<nn::Linear>, // head.weight if Some
//!     scale: Tensor,            // a parameter named "scale"
//!     #[module(buffer)]
//!     running_mean: Tensor,     // in the state dict only
//!     #[module(skip)]
//!     hidden: usize,
//! }
//!
//! let mlp = Mlp {
//!     layers: vec![nn::Linear::new(2, 8), nn::Linear::new(8, 8)],
//!     head: Some(nn::Linear::new_no_bias(8, 1)),
//!     scale: Tensor::ones(&[1]).requires_grad_(true),
//!     running_mean: Tensor::zeros(&[8]),
//!     hidden: 8,
//! };
//! let names: Vec<String> = mlp.named_parameters().into_iter().map(|(n, _)| n).collect();
//! assert_eq!(names, ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "head.weight", "scale"]);
//! assert_eq!(mlp.state_dict().len(), 7);
//! # let _ = mlp.hidden;
//! ```

mod attr;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{parse_macro_input, Data, DeriveInput, Fields, GenericArgument, PathArguments, Type};

use attr::{FieldRole, StructOptions};

/// Derives `Module` for a struct; see the crate docs for how fields are treated.
#[proc_macro_derive(Module, attributes(module))]
pub fn derive_module(input: TokenStream) -> TokenStream {
    expand(parse_macro_input!(input as DeriveInput)).unwrap_or_else(syn::Error::into_compile_error).into()
}

fn expand(input: DeriveInput) -> syn::Result<TokenStream2> {
    let options = StructOptions::parse(&input.attrs)?;
    let krate = &options.krate;
    let fields = match &input.data {
        Data::Struct(s) => &s.fields,
        Data::Enum(e) => return Err(syn::Error::new(e.enum_token.span, "#[derive(Module)] supports structs only")),
        Data::Union(u) => return Err(syn::Error::new(u.union_token.span, "#[derive(Module)] supports structs only")),
    };
    let members: Vec<(String, syn::Member, &syn::Field)> = match fields {
        Fields::Named(named) => named
            .named
            .iter()
            .map(|f| {
                let ident = f.ident.clone().expect("named fields have identifiers");
                let name = ident.to_string().trim_start_matches("r#").to_string();
                (name, syn::Member::Named(ident), f)
            })
            .collect(),
        Fields::Unnamed(unnamed) => {
            unnamed.unnamed.iter().enumerate().map(|(i, f)| (i.to_string(), syn::Member::from(i), f)).collect()
        }
        Fields::Unit => Vec::new(),
    };

    let mut visits = Vec::new();
    for (name, member, field) in members {
        let span = field.ty.span();
        let visit = match FieldRole::parse(&field.attrs)? {
            FieldRole::Skip => continue,
            FieldRole::Buffer => quote_spanned! {span=>
                #krate::__private::TensorField::visit_buffers(&self.#member, #name, visitor);
            },
            FieldRole::Param => quote_spanned! {span=>
                #krate::__private::TensorField::visit_params(&self.#member, #name, visitor);
            },
            FieldRole::Auto if is_tensor_field(&field.ty) => quote_spanned! {span=>
                #krate::__private::TensorField::visit_params(&self.#member, #name, visitor);
            },
            FieldRole::Auto => quote_spanned! {span=>
                #krate::Visitor::child(visitor, #name, &self.#member);
            },
        };
        visits.push(visit);
    }
    if visits.is_empty() {
        visits.push(quote! { let _ = visitor; });
    }

    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #krate::Module for #ident #ty_generics #where_clause {
            fn visit(&self, visitor: &mut dyn #krate::Visitor) {
                #(#visits)*
            }
        }
    })
}

/// True for `Tensor`, `Option<Tensor>` and `Vec<Tensor>` (any path prefix).
fn is_tensor_field(ty: &Type) -> bool {
    let Some((ident, args)) = last_segment(ty) else { return false };
    match (ident.as_str(), args) {
        ("Tensor", None) => true,
        ("Option" | "Vec", Some(inner)) => matches!(last_segment(inner), Some((name, None)) if name == "Tensor"),
        _ => false,
    }
}

/// The last path segment's name and, if it has exactly one, its type argument.
fn last_segment(ty: &Type) -> Option<(String, Option<&Type>)> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() {
        return None;
    }
    let seg = p.path.segments.last()?;
    let arg = match &seg.arguments {
        PathArguments::None => None,
        PathArguments::AngleBracketed(a) if a.args.len() == 1 => match a.args.first() {
            Some(GenericArgument::Type(t)) => Some(t),
            _ => return None,
        },
        _ => return None,
    };
    Some((seg.ident.to_string(), arg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(src: &str) -> Result<String, String> {
        let input: DeriveInput = syn::parse_str(src).unwrap();
        expand(input).map(|t| t.to_string()).map_err(|e| e.to_string())
    }

    #[test]
    fn classifies_fields_by_type_and_attribute() {
        let out = expand_str(
            "struct Net { w: Tensor, b: Option<nabla::Tensor>, ws: Vec<Tensor>, fc: Linear, \
             layers: Vec<Linear>, head: Option<Linear>, #[module(buffer)] mean: Tensor, \
             #[module(param)] alias: Param, #[module(skip)] n: usize, r#type: Identity }",
        )
        .unwrap();
        let params = out.matches("visit_params").count();
        assert_eq!(params, 4, "{out}");
        assert_eq!(out.matches("visit_buffers").count(), 1, "{out}");
        assert_eq!(out.matches("Visitor :: child").count(), 4, "{out}");
        assert!(!out.contains("\"n\""), "{out}");
        assert!(out.contains("\"type\""), "{out}");
        assert!(out.contains(":: nabla :: nn :: Module for Net"), "{out}");
    }

    #[test]
    fn crate_attribute_sets_the_path() {
        let out = expand_str("#[module(crate = \"nabla_nn\")] struct A(Linear, Tensor);").unwrap();
        assert!(out.contains("nabla_nn :: Module for A"), "{out}");
        assert!(out.contains("\"0\"") && out.contains("\"1\""), "{out}");
    }

    #[test]
    fn generics_are_kept() {
        let out = expand_str("struct W<M: Module> where M: Clone { inner: M }").unwrap();
        assert!(out.contains("impl < M : Module > :: nabla :: nn :: Module for W < M > where M : Clone"), "{out}");
    }

    #[test]
    fn unit_struct_has_an_empty_visit() {
        assert!(expand_str("struct U;").unwrap().contains("let _ = visitor"));
    }

    #[test]
    fn rejects_enums_unknown_and_conflicting_attributes() {
        assert!(expand_str("enum E { A }").unwrap_err().contains("structs only"));
        assert!(expand_str("union U { a: u32 }").unwrap_err().contains("structs only"));
        let e = expand_str("struct S { #[module(frozen)] w: Tensor }").unwrap_err();
        assert!(e.contains("unknown #[module] field option `frozen`"), "{e}");
        let e = expand_str("struct S { #[module(skip, buffer)] w: Tensor }").unwrap_err();
        assert!(e.contains("only one of"), "{e}");
        let e = expand_str("#[module(krate = \"x\")] struct S;").unwrap_err();
        assert!(e.contains("unknown #[module] struct option `krate`"), "{e}");
        let e = expand_str("#[module(crate = \"not a path\")] struct S;").unwrap_err();
        assert!(!e.is_empty());
    }

    #[test]
    fn tensor_detection_is_by_last_segment() {
        let ty = |s: &str| syn::parse_str::<Type>(s).unwrap();
        assert!(is_tensor_field(&ty("nabla::Tensor")));
        assert!(is_tensor_field(&ty("Vec<Tensor>")));
        assert!(!is_tensor_field(&ty("Vec<Linear>")));
        assert!(!is_tensor_field(&ty("Option<Vec<Tensor>>")));
        assert!(!is_tensor_field(&ty("Tensor<f32>")));
        assert!(!is_tensor_field(&ty("&Tensor")));
    }
}
