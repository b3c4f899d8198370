//! The controls a teacher can hide from students: part of a run's setup, kept in the preferences
//! and in lesson files. A hidden control is absent from the window, not greyed out.

use serde::{Deserialize, Serialize};

/// One control of the settings panel or the toolbar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    Loss,
    /// The optimizer and its own settings (momentum, Adam's betas and epsilon).
    Optimizer,
    LearningRate,
    BatchSize,
    /// L2 regularization.
    L2,
    /// The dataset and the presets.
    Dataset,
    /// The layers.
    Architecture,
    Seed,
    Reset,
    StepThrough,
}

impl Control {
    pub const ALL: [Control; 10] = [
        Control::Loss,
        Control::Optimizer,
        Control::LearningRate,
        Control::BatchSize,
        Control::L2,
        Control::Dataset,
        Control::Architecture,
        Control::Seed,
        Control::Reset,
        Control::StepThrough,
    ];

    /// Its name in the list a teacher ticks.
    pub fn name(self) -> &'static str {
        match self {
            Control::Loss => "Loss",
            Control::Optimizer => "Optimizer",
            Control::LearningRate => "Learning rate",
            Control::BatchSize => "Batch size",
            Control::L2 => "L2",
            Control::Dataset => "Dataset and presets",
            Control::Architecture => "Architecture",
            Control::Seed => "Seed",
            Control::Reset => "Reset",
            Control::StepThrough => "Step through",
        }
    }
}

/// The controls students do not see.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Hidden(Vec<Control>);

impl Hidden {
    pub fn of(controls: impl IntoIterator<Item = Control>) -> Self {
        let mut hidden = Self::default();
        for control in controls {
            hidden.set(control, false);
        }
        hidden
    }

    /// Whether students see `control`.
    pub fn shows(&self, control: Control) -> bool {
        !self.0.contains(&control)
    }

    /// Shows or hides `control`; the list stays sorted, each control once.
    pub fn set(&mut self, control: Control, shown: bool) {
        self.0.retain(|&c| c != control);
        if !shown {
            self.0.push(control);
            self.0.sort();
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn controls(&self) -> &[Control] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hiding_and_showing_keeps_each_control_once_in_order() {
        let mut hidden = Hidden::of([Control::Seed, Control::Loss, Control::Seed]);
        assert_eq!(hidden.controls(), [Control::Loss, Control::Seed]);
        assert!(!hidden.shows(Control::Loss) && hidden.shows(Control::Optimizer));
        hidden.set(Control::Loss, true);
        hidden.set(Control::Optimizer, false);
        assert_eq!(hidden.controls(), [Control::Optimizer, Control::Seed]);
        assert_eq!(
            serde_json::to_string(&hidden).expect("json"),
            r#"["optimizer","seed"]"#
        );
    }

    #[test]
    fn an_unknown_control_name_is_an_error_not_a_silent_skip() {
        let read: Result<Hidden, _> = serde_json::from_str(r#"["loss","volume"]"#);
        let error = read.expect_err("volume is no control").to_string();
        assert!(error.contains("unknown variant `volume`"), "{error}");
    }
}
