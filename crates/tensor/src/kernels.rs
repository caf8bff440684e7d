//! The generic elementwise loops every map-like op shares: one for one operand, one
//! for two. Contiguous operands take a plain slice loop the compiler vectorises; others
//! go run by run through [`Walk`], in parallel above the threshold.

use crate::dtype::Element;
use crate::layout::{Layout, Walk};
use crate::threads::collect_chunks;

/// `out[i] = f(src[layout(i)])` for every element, in row-major order.
pub(crate) fn map1<T: Element, U: Element>(src: &[T], layout: &Layout, f: impl Fn(T) -> U + Sync) -> Vec<U> {
    let n = layout.numel();
    if layout.is_contiguous() {
        let src = &src[layout.offset()..layout.offset() + n];
        return collect_chunks(n, n, |start, out| {
            out.extend(src[start..].iter().map(|&x| f(x)));
        });
    }
    let walk = Walk::new(layout.shape(), [layout]);
    let [s] = walk.inner_strides();
    collect_chunks(n, n, |start, out| {
        let end = start + out.remaining();
        walk.runs(start..end, |[off], len| match s {
            // A run of one broadcast value (the gradient of a sum, expanded): `f` is
            // pure, so it runs once and the result is repeated.
            0 => out.extend(std::iter::repeat_n(f(src[off]), len)),
            _ => out.extend((0..len).map(|i| f(src[off + i * s]))),
        });
    })
}

/// `out[i] = f(a[la(i)], b[lb(i)])` where `la` and `lb` already have the output shape
/// (broadcast operands carry stride 0).
pub(crate) fn map2<A: Element, B: Element, U: Element>(
    a: &[A],
    la: &Layout,
    b: &[B],
    lb: &Layout,
    f: impl Fn(A, B) -> U + Sync,
) -> Vec<U> {
    debug_assert_eq!(la.shape(), lb.shape());
    let n = la.numel();
    if la.is_contiguous() && lb.is_contiguous() {
        let a = &a[la.offset()..la.offset() + n];
        let b = &b[lb.offset()..lb.offset() + n];
        return collect_chunks(n, n, |start, out| {
            out.extend(a[start..].iter().zip(&b[start..]).map(|(&x, &y)| f(x, y)));
        });
    }
    let walk = Walk::new(la.shape(), [la, lb]);
    let [sa, sb] = walk.inner_strides();
    collect_chunks(n, n, |start, out| {
        let end = start + out.remaining();
        walk.runs(start..end, |[oa, ob], len| {
            // The three common run kinds get their own loop so each can vectorise.
            match (sa, sb) {
                (1, 1) => out.extend(a[oa..oa + len].iter().zip(&b[ob..ob + len]).map(|(&x, &y)| f(x, y))),
                (1, 0) => out.extend(a[oa..oa + len].iter().map(|&x| f(x, b[ob]))),
                (0, 1) => out.extend(b[ob..ob + len].iter().map(|&y| f(a[oa], y))),
                _ => out.extend((0..len).map(|i| f(a[oa + i * sa], b[ob + i * sb]))),
            }
        });
    })
}

/// `out[i] = f(a(i), b(i), c(i))` for three operands already broadcast to one shape.
pub(crate) fn map3<A: Element, B: Element, C: Element, U: Element>(
    (a, la): (&[A], &Layout),
    (b, lb): (&[B], &Layout),
    (c, lc): (&[C], &Layout),
    f: impl Fn(A, B, C) -> U + Sync,
) -> Vec<U> {
    let n = la.numel();
    let walk = Walk::new(la.shape(), [la, lb, lc]);
    let [sa, sb, sc] = walk.inner_strides();
    collect_chunks(n, n, |start, out| {
        let end = start + out.remaining();
        walk.runs(start..end, |[oa, ob, oc], len| {
            out.extend((0..len).map(|i| f(a[oa + i * sa], b[ob + i * sb], c[oc + i * sc])));
        });
    })
}
