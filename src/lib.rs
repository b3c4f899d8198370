//! Backprop Lab: watch a neural network learn and look inside it while it does.
//!
//! The crate is layered; each layer only knows the ones above it in this list:
//! - [`nn`]: layers, activations, losses, optimizers and the network (ndarray and math only).
//! - [`data`]: toy 2-D sets, IDX/MNIST files, image preprocessing.
//! - [`train`]: the synchronous trainer, its settings and events, and the presets.
//! - [`io`]: model files.
//! - [`ui`]: the desktop app (egui): panels that read snapshots and send commands.
//! - [`cli`]: the `backprop-lab` command line, which also opens the app.

pub mod cli;
pub mod data;
pub mod io;
pub mod nn;
pub mod train;
pub mod ui;
