//! The generic elementwise loops every map-like op shares: one for one operand, one
//! for two. Contiguous operands take a plain slice loop the compiler vectorises; others
//! go run by run through [`Walk`], in parallel above the threshold.

use crate::dtype::Element;
use crate::layout::{Layout, Walk};
use crate::threads::fill_chunks;

/// `out[i] = f(src[layout(i)])` for every element, in row-major order.
pub(crate) fn map1<T: Element, U: Element>(src: &[T], layout: &Layout, f: impl Fn(T) -> U + Sync) -> Vec<U> {
    let n = layout.numel();
    let mut out = vec![U::default(); n];
    if layout.is_contiguous() {
        let src = &src[layout.offset()..layout.offset() + n];
        fill_chunks(&mut out, n, |start, chunk| {
            let end = start + chunk.len();
            for (o, &x) in chunk.iter_mut().zip(&src[start..end]) {
                *o = f(x);
            }
        });
        return out;
    }
    let walk = Walk::new(layout.shape(), [layout]);
    let [s] = walk.inner_strides();
    fill_chunks(&mut out, n, |start, chunk| {
        let mut o = 0;
        walk.runs(start..start + chunk.len(), |[off], len| {
            for (i, dst) in chunk[o..o + len].iter_mut().enumerate() {
                *dst = f(src[off + i * s]);
            }
            o += len;
        });
    });
    out
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
    let mut out = vec![U::default(); n];
    if la.is_contiguous() && lb.is_contiguous() {
        let a = &a[la.offset()..la.offset() + n];
        let b = &b[lb.offset()..lb.offset() + n];
        fill_chunks(&mut out, n, |start, chunk| {
            let end = start + chunk.len();
            for ((o, &x), &y) in chunk.iter_mut().zip(&a[start..end]).zip(&b[start..end]) {
                *o = f(x, y);
            }
        });
        return out;
    }
    let walk = Walk::new(la.shape(), [la, lb]);
    let [sa, sb] = walk.inner_strides();
    fill_chunks(&mut out, n, |start, chunk| {
        let mut o = 0;
        walk.runs(start..start + chunk.len(), |[oa, ob], len| {
            let dst = &mut chunk[o..o + len];
            // The three common run kinds get their own loop so each can vectorise.
            match (sa, sb) {
                (1, 1) => {
                    for ((d, &x), &y) in dst.iter_mut().zip(&a[oa..oa + len]).zip(&b[ob..ob + len]) {
                        *d = f(x, y);
                    }
                }
                (1, 0) => {
                    let y = b[ob];
                    for (d, &x) in dst.iter_mut().zip(&a[oa..oa + len]) {
                        *d = f(x, y);
                    }
                }
                (0, 1) => {
                    let x = a[oa];
                    for (d, &y) in dst.iter_mut().zip(&b[ob..ob + len]) {
                        *d = f(x, y);
                    }
                }
                _ => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        *d = f(a[oa + i * sa], b[ob + i * sb]);
                    }
                }
            }
            o += len;
        });
    });
    out
}

/// `out[i] = f(a(i), b(i), c(i))` for three operands already broadcast to one shape.
pub(crate) fn map3<A: Element, B: Element, C: Element, U: Element>(
    (a, la): (&[A], &Layout),
    (b, lb): (&[B], &Layout),
    (c, lc): (&[C], &Layout),
    f: impl Fn(A, B, C) -> U + Sync,
) -> Vec<U> {
    let n = la.numel();
    let mut out = vec![U::default(); n];
    let walk = Walk::new(la.shape(), [la, lb, lc]);
    let [sa, sb, sc] = walk.inner_strides();
    fill_chunks(&mut out, n, |start, chunk| {
        let mut o = 0;
        walk.runs(start..start + chunk.len(), |[oa, ob, oc], len| {
            for (i, d) in chunk[o..o + len].iter_mut().enumerate() {
                *d = f(a[oa + i * sa], b[ob + i * sb], c[oc + i * sc]);
            }
            o += len;
        });
    });
    out
}
