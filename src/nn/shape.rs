use std::fmt;

use serde::{Deserialize, Serialize};

/// The shape of one sample: `height x width x channels`; a flat vector is `1 x 1 x n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shape {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
}

impl Shape {
    /// An image of `height x width` pixels with `channels` values each.
    pub const fn image(height: usize, width: usize, channels: usize) -> Self {
        Self {
            height,
            width,
            channels,
        }
    }

    /// A flat vector of `len` features.
    pub const fn flat(len: usize) -> Self {
        Self::image(1, 1, len)
    }

    /// Number of values in one sample.
    pub const fn len(&self) -> usize {
        self.height * self.width * self.channels
    }

    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True for a plain feature vector (no spatial extent).
    pub const fn is_flat(&self) -> bool {
        self.height == 1 && self.width == 1
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_flat() {
            write!(f, "{}", self.channels)
        } else {
            write!(f, "{}x{}x{}", self.height, self.width, self.channels)
        }
    }
}
