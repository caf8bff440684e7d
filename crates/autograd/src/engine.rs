//! `backward()`: one reverse sweep over the recorded graph.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use smallvec::SmallVec;

use nabla_tensor::NdArray;

use crate::error::AutogradError;
use crate::graph::{Edge, Node};
use crate::tensor::Tensor;

impl Tensor {
    /// Computes the gradient of this scalar with respect to every leaf that requires
    /// grad, adding it into their `.grad()` (`loss.backward()`). The graph is freed.
    ///
    /// # Panics
    /// With PyTorch's message if this tensor is not scalar, does not require grad, or
    /// its graph was already freed or modified in place; see [`Tensor::try_backward`].
    #[track_caller]
    pub fn backward(&self) {
        if let Err(e) = self.try_backward(None, false) {
            panic!("backward: {e}");
        }
    }

    /// `backward` with an explicit output gradient (required for non-scalar outputs)
    /// and the option to keep the graph for another backward (`retain_graph`).
    #[track_caller]
    pub fn backward_with(&self, grad: Option<&Tensor>, retain_graph: bool) {
        if let Err(e) = self.try_backward(grad, retain_graph) {
            panic!("backward: {e}");
        }
    }

    /// The fallible form of [`Tensor::backward_with`].
    pub fn try_backward(&self, grad: Option<&Tensor>, retain_graph: bool) -> Result<(), AutogradError> {
        if !self.requires_grad() {
            return Err(AutogradError::NoGrad);
        }
        let shape = self.shape();
        let seed = match grad {
            Some(g) => {
                let g = g.data();
                if g.shape() != shape.as_slice() {
                    return Err(AutogradError::GradShape { expected: shape, got: g.shape().to_vec() });
                }
                g.cast(self.dtype())
            }
            None if self.numel() == 1 => NdArray::ones(&shape, self.dtype()),
            None => return Err(AutogradError::NonScalar { shape }),
        };
        match self.grad_fn() {
            None => {
                self.inner().accumulate_grad(seed);
                Ok(())
            }
            Some(root) => run(root, seed, retain_graph),
        }
    }
}

fn key(n: &Arc<Node>) -> *const Node {
    Arc::as_ptr(n)
}

/// Hashes node addresses with one multiply: the keys are distinct pointers, so
/// SipHash's protection against crafted keys buys nothing and costs most of a tiny
/// backward's time.
#[derive(Default)]
struct PtrHasher(u64);

impl Hasher for PtrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64 >> 4).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type PtrMap<V> = HashMap<*const Node, V, BuildHasherDefault<PtrHasher>>;
type PtrSet = HashSet<*const Node, BuildHasherDefault<PtrHasher>>;

/// Runs every node reachable from `root` once, in decreasing `seq` (a reverse
/// topological order), passing each its summed output gradient.
fn run(root: &Arc<Node>, seed: NdArray, retain_graph: bool) -> Result<(), AutogradError> {
    let nodes = reachable(root);
    let result = sweep(&nodes, seed);
    if !retain_graph {
        // Free every saved tensor now, even after an error part-way.
        for n in &nodes {
            n.backward.lock().unwrap_or_else(|e| e.into_inner()).take();
        }
    }
    result
}

/// The nodes reachable from `root`, in decreasing `seq`, so `root` comes first.
fn reachable(root: &Arc<Node>) -> Vec<Arc<Node>> {
    let mut nodes = vec![root.clone()];
    if !root.inputs.iter().any(|e| matches!(e, Edge::Node(_))) {
        return nodes;
    }
    let mut seen = PtrSet::default();
    seen.insert(key(root));
    let mut i = 0;
    while i < nodes.len() {
        let node = nodes[i].clone();
        for e in &node.inputs {
            if let Edge::Node(c) = e {
                if seen.insert(key(c)) {
                    nodes.push(c.clone());
                }
            }
        }
        i += 1;
    }
    nodes.sort_unstable_by_key(|n| std::cmp::Reverse(n.seq));
    nodes
}

fn sweep(nodes: &[Arc<Node>], seed: NdArray) -> Result<(), AutogradError> {
    let position: PtrMap<usize> =
        if nodes.len() > 1 { nodes.iter().enumerate().map(|(i, n)| (key(n), i)).collect() } else { PtrMap::default() };
    let mut grads: Vec<Option<NdArray>> = vec![None; nodes.len()];
    grads[0] = Some(seed);
    for (i, node) in nodes.iter().enumerate() {
        // A node can be unreached when every path to it passed through a `None` grad.
        let Some(g) = grads[i].take() else { continue };
        let needs: SmallVec<[bool; 4]> = node.inputs.iter().map(|e| !matches!(e, Edge::None)).collect();
        let input_grads = {
            let f = node.backward.lock().unwrap_or_else(|e| e.into_inner());
            let f = f.as_ref().ok_or(AutogradError::GraphFreed { op: node.name })?;
            f(&g, &needs)?
        };
        drop(g);
        for (edge, ig) in node.inputs.iter().zip(input_grads) {
            match (edge, ig) {
                (Edge::None, _) | (_, None) => {}
                (Edge::Leaf(leaf), Some(ig)) => leaf.accumulate_grad(ig),
                (Edge::Node(n), Some(ig)) => {
                    let slot = &mut grads[position[&key(n)]];
                    *slot = Some(match slot.take() {
                        Some(sum) => sum.add(&ig),
                        None => ig,
                    });
                }
            }
        }
    }
    Ok(())
}
