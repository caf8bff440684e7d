//! `Sequential`: layers applied one after another.

use std::fmt;

use nabla_autograd::Tensor;

use crate::module::{Forward, Layer, Module, Visitor};

/// A chain of single-input layers applied in order (`torch.nn.Sequential`). Layers
/// are named `"0"`, `"1"`, ... so parameters read `0.weight`, `2.bias`, as in PyTorch.
///
/// Any [`Layer`] (a [`Module`] with [`Forward`]) can be added, including another
/// `Sequential` and user-defined layers. An empty `Sequential` returns its input.
///
/// # Shape
/// - input: whatever the first layer takes
/// - output: whatever the last layer gives
///
/// ```
/// use nabla_autograd::Tensor;
/// use nabla_nn::{Dropout, Forward, Linear, ReLU, Sequential};
/// let model = Sequential::new()
///     .add(Linear::new(784, 128))
///     .add(ReLU::new())
///     .add(Dropout::new(0.2))
///     .add(Linear::new(128, 10));
/// assert_eq!(model.forward(&Tensor::randn(&[2, 784])).shape(), vec![2, 10]);
/// assert_eq!(model.len(), 4);
/// ```
#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Layer>>,
}

impl Sequential {
    /// An empty chain.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `layer` (builder style, as Keras's `model.add`).
    // Not `std::ops::Add`: `seq + layer` would hide that the chain is being built.
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, layer: impl Layer + 'static) -> Self {
        self.push(layer);
        self
    }

    /// Appends `layer` (`Sequential.append`).
    pub fn push(&mut self, layer: impl Layer + 'static) {
        self.layers.push(Box::new(layer));
    }

    /// The number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// True when there is no layer.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// Layer `index` (`model[index]`), if there is one.
    pub fn get(&self, index: usize) -> Option<&dyn Layer> {
        self.layers.get(index).map(|l| &**l)
    }
}

impl From<Vec<Box<dyn Layer>>> for Sequential {
    fn from(layers: Vec<Box<dyn Layer>>) -> Self {
        Sequential { layers }
    }
}

impl Module for Sequential {
    fn visit(&self, v: &mut dyn Visitor) {
        self.layers.visit(v)
    }
}

impl Forward for Sequential {
    fn forward(&self, x: &Tensor) -> Tensor {
        self.layers.iter().fold(x.clone(), |x, layer| layer.forward(&x))
    }
}

impl fmt::Debug for Sequential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sequential({} layers)", self.layers.len())
    }
}
