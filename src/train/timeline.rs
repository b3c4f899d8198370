//! The run's past, kept in memory: the trainer's whole state at chosen steps, within a memory
//! budget that is never exceeded. When a new state would pass it, the kept state whose removal
//! leaves the smallest gap for its age goes, so the kept steps are dense near the present and
//! sparser further back (their spacing grows about in proportion to their age). The first
//! state kept (the run's start) and the newest stay.

use super::state::TrainerState;

/// The budget unless told otherwise: 256 MiB.
pub const DEFAULT_BUDGET: usize = 256 << 20;
/// States kept at most, however small (a toy network's would be tens of thousands).
pub const MAX_KEPT: usize = 4096;

/// One kept state, at `state.step` batches and `epochs` fractional epochs.
#[derive(Clone, Debug)]
pub struct KeptState {
    pub state: TrainerState,
    pub epochs: f64,
    bytes: usize,
}

impl KeptState {
    pub fn step(&self) -> u64 {
        self.state.step
    }
}

/// What the app is told of the timeline: where the kept states stand and what they take.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimelineSummary {
    /// (step, epochs) of every kept state, in order.
    pub kept: Vec<(u64, f64)>,
    pub bytes: usize,
    pub budget: usize,
}

impl TimelineSummary {
    /// The kept step nearest `step` (the earlier one on a tie).
    pub fn nearest(&self, step: u64) -> Option<u64> {
        self.kept
            .iter()
            .map(|&(kept, _)| kept)
            .min_by_key(|&kept| (kept.abs_diff(step), kept))
    }

    /// The newest kept step.
    pub fn latest(&self) -> Option<u64> {
        self.kept.last().map(|&(step, _)| step)
    }
}

/// Kept states in step order, within `budget` bytes.
#[derive(Clone, Debug)]
pub struct Timeline {
    budget: usize,
    kept: Vec<KeptState>,
    bytes: usize,
    /// Bytes of the budget held elsewhere (the fork).
    reserved: usize,
}

impl Timeline {
    pub fn new(budget: usize) -> Self {
        Self {
            budget,
            kept: Vec::new(),
            bytes: 0,
            reserved: 0,
        }
    }

    /// Holds `bytes` of the budget for something kept beside the timeline (the fork), thinning
    /// the kept states to what is left.
    pub fn reserve(&mut self, bytes: usize) {
        self.reserved = bytes;
        self.thin();
    }

    /// Keeps `state` (a state of the same step replaces the one kept; the states after its
    /// step are forgotten, as the run went another way), then thins to the budget.
    pub fn keep(&mut self, state: TrainerState, epochs: f64) {
        self.truncate_after(state.step);
        if self
            .kept
            .last()
            .is_some_and(|last| last.step() == state.step)
        {
            self.remove(self.kept.len() - 1);
        }
        let bytes = state.bytes();
        self.bytes += bytes;
        self.kept.push(KeptState {
            state,
            epochs,
            bytes,
        });
        self.thin();
    }

    /// The kept state nearest `step` (the earlier one on a tie).
    pub fn nearest(&self, step: u64) -> Option<&KeptState> {
        self.kept
            .iter()
            .min_by_key(|kept| (kept.step().abs_diff(step), kept.step()))
    }

    pub fn latest(&self) -> Option<&KeptState> {
        self.kept.last()
    }

    /// Forgets the states after `step`.
    pub fn truncate_after(&mut self, step: u64) {
        while self.kept.last().is_some_and(|last| last.step() > step) {
            self.remove(self.kept.len() - 1);
        }
    }

    pub fn summary(&self) -> TimelineSummary {
        TimelineSummary {
            kept: self.kept.iter().map(|k| (k.step(), k.epochs)).collect(),
            bytes: self.bytes + self.reserved,
            budget: self.budget,
        }
    }

    fn remove(&mut self, index: usize) {
        let removed = self.kept.remove(index);
        self.bytes -= removed.bytes;
    }

    /// Drops states until the kept ones fit the budget: an interior one while there is one,
    /// the one whose gap left (next step - previous step) is smallest for its age (newest
    /// step - its step); then the oldest; a single state larger than the budget is not kept.
    fn thin(&mut self) {
        while !self.kept.is_empty()
            && (self.bytes + self.reserved > self.budget || self.kept.len() > MAX_KEPT)
        {
            let victim = if self.kept.len() > 2 {
                let newest = self.kept[self.kept.len() - 1].step();
                (1..self.kept.len() - 1)
                    .min_by(|&a, &b| {
                        let score = |i: usize| {
                            let gap = self.kept[i + 1].step() - self.kept[i - 1].step();
                            let age = (newest - self.kept[i].step()).max(1);
                            gap as f64 / age as f64
                        };
                        score(a).total_cmp(&score(b))
                    })
                    .unwrap_or(1)
            } else {
                0
            };
            self.remove(victim);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::{Preset, RunConfig};

    fn state_at(template: &TrainerState, step: u64) -> TrainerState {
        TrainerState {
            step,
            ..template.clone()
        }
    }

    fn template() -> TrainerState {
        let preset = Preset::named("xor").expect("xor exists");
        let trainer = RunConfig::from_preset(&preset, 42)
            .build()
            .expect("xor builds");
        trainer.state()
    }

    #[test]
    fn the_budget_is_never_exceeded_and_spacing_grows_with_age() {
        let template = template();
        let size = template.bytes();
        let mut timeline = Timeline::new(size * 40);
        for step in 0..20_000 {
            timeline.keep(state_at(&template, step), step as f64);
            assert!(timeline.summary().bytes <= size * 40);
        }
        let steps: Vec<u64> = timeline.summary().kept.iter().map(|k| k.0).collect();
        assert_eq!(steps.len(), 40);
        assert_eq!(steps[0], 0, "the start stays");
        assert_eq!(*steps.last().unwrap(), 19_999, "the present stays");
        let gaps: Vec<u64> = steps.windows(2).map(|w| w[1] - w[0]).collect();
        // denser near the present: the newest gaps are far smaller than the oldest
        let old: u64 = gaps[..10].iter().sum();
        let recent: u64 = gaps[gaps.len() - 10..].iter().sum();
        assert!(recent * 10 < old, "recent {recent}, old {old}: {gaps:?}");
        assert!(
            steps.iter().rev().take(5).all(|&s| s >= 19_990),
            "the last steps are all near: {steps:?}"
        );
    }

    #[test]
    fn same_step_replaces_and_going_back_forgets_what_came_after() {
        let template = template();
        let mut timeline = Timeline::new(DEFAULT_BUDGET);
        for step in 0..10 {
            timeline.keep(state_at(&template, step), 0.0);
        }
        timeline.keep(state_at(&template, 9), 1.0);
        assert_eq!(timeline.summary().kept.len(), 10);
        assert_eq!(timeline.latest().map(|k| k.epochs), Some(1.0));
        timeline.keep(state_at(&template, 4), 2.0);
        let steps: Vec<u64> = timeline.summary().kept.iter().map(|k| k.0).collect();
        assert_eq!(steps, [0, 1, 2, 3, 4]);
        assert_eq!(timeline.summary().bytes, template.bytes() * 5);
        assert_eq!(timeline.nearest(100).map(KeptState::step), Some(4));
        assert_eq!(timeline.summary().nearest(100), Some(4));
    }

    #[test]
    fn the_fork_counts_against_the_budget_and_tiny_states_are_capped_in_number() {
        let template = template();
        let size = template.bytes();
        let mut timeline = Timeline::new(size * 10);
        for step in 0..10 {
            timeline.keep(state_at(&template, step), 0.0);
        }
        timeline.reserve(size * 3);
        assert_eq!(timeline.summary().kept.len(), 7);
        assert_eq!(timeline.summary().bytes, size * 10);
        timeline.reserve(size * 11);
        assert!(
            timeline.latest().is_none(),
            "nothing fits beside a fork that large"
        );
        let mut many = Timeline::new(DEFAULT_BUDGET);
        for step in 0..(MAX_KEPT as u64 + 100) {
            many.keep(state_at(&template, step), 0.0);
        }
        assert_eq!(many.summary().kept.len(), MAX_KEPT);
    }

    #[test]
    fn a_state_larger_than_the_budget_is_not_kept() {
        let template = template();
        let mut timeline = Timeline::new(template.bytes() - 1);
        timeline.keep(state_at(&template, 0), 0.0);
        assert!(timeline.latest().is_none());
        assert_eq!(timeline.summary().bytes, 0);
    }
}
