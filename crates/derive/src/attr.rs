//! The `#[module(...)]` options: `crate = "path"` on the struct; `skip`, `param` or
//! `buffer` on a field.

use syn::{Attribute, LitStr, Path};

/// Options given on the struct.
pub(crate) struct StructOptions {
    /// Where `Module`, `Visitor` and `__private` live; `::nabla::nn` by default.
    pub krate: Path,
}

impl StructOptions {
    pub fn parse(attrs: &[Attribute]) -> syn::Result<Self> {
        let mut krate: Path = syn::parse_quote!(::nabla::nn);
        for attr in attrs.iter().filter(|a| a.path().is_ident("module")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("crate") {
                    krate = meta.value()?.parse::<LitStr>()?.parse()?;
                    Ok(())
                } else {
                    Err(meta.error(format!(
                        "unknown #[module] struct option `{}`; expected `crate`",
                        path_name(&meta.path)
                    )))
                }
            })?;
        }
        Ok(StructOptions { krate })
    }
}

/// How a field takes part in the module.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum FieldRole {
    /// Decided by the type: tensors are parameters, everything else is a child module.
    Auto,
    /// `#[module(skip)]`: not visited.
    Skip,
    /// `#[module(param)]`: a tensor (or `Option`/`Vec` of tensors) whatever its spelling.
    Param,
    /// `#[module(buffer)]`: a tensor saved in the state dict but not trained.
    Buffer,
}

impl FieldRole {
    pub fn parse(attrs: &[Attribute]) -> syn::Result<Self> {
        let mut role = FieldRole::Auto;
        for attr in attrs.iter().filter(|a| a.path().is_ident("module")) {
            attr.parse_nested_meta(|meta| {
                let next = match path_name(&meta.path).as_str() {
                    "skip" => FieldRole::Skip,
                    "param" => FieldRole::Param,
                    "buffer" => FieldRole::Buffer,
                    other => {
                        return Err(meta.error(format!(
                            "unknown #[module] field option `{other}`; expected `skip`, `param` or `buffer`"
                        )))
                    }
                };
                if role != FieldRole::Auto {
                    return Err(meta.error("a field takes only one of `skip`, `param` and `buffer`"));
                }
                role = next;
                Ok(())
            })?;
        }
        Ok(role)
    }
}

fn path_name(path: &Path) -> String {
    path.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join("::")
}
