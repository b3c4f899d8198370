//! The timeline under the curves: a track from step 0 to the present with a tick at every
//! kept state (dense near the present, sparse further back) and the fork; dragging along it
//! shows the network as it was at the nearest kept step. Below it, what is on show, "Back to
//! now" and "Resume from here", and the memory the kept states take against their budget.

use egui::{Color32, Pos2, Rect, RichText, Sense, Stroke, Ui, Vec2};

use super::palette;
use super::run_view::RunView;
use crate::train::cost::{format_size, group_digits};

/// The track's height.
const TRACK_HEIGHT: f32 = 22.0;
/// Room left at both ends of the track for the handle.
const TRACK_MARGIN: f32 = 8.0;

/// What the timeline asks the app to do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TimelineAction {
    /// Show the kept state nearest this step.
    View(u64),
    BackToPresent,
    ResumeHere,
    /// Record the timeline and the histograms, or stop.
    SetRecording(bool),
}

/// The timeline's own state: the step last asked for while dragging.
#[derive(Clone, Debug, Default)]
pub struct Timeline {
    asked: Option<u64>,
}

/// Steps from `0` to `last` over the track `rect`, both ways.
#[derive(Clone, Copy, Debug)]
struct StepAxis {
    left: f32,
    width: f32,
    last: u64,
}

impl StepAxis {
    fn new(rect: Rect, last: u64) -> Self {
        Self {
            left: rect.left() + TRACK_MARGIN,
            width: (rect.width() - 2.0 * TRACK_MARGIN).max(1.0),
            last: last.max(1),
        }
    }

    fn x(&self, step: u64) -> f32 {
        self.left + self.width * (step as f64 / self.last as f64) as f32
    }

    fn step(&self, x: f32) -> u64 {
        let t = ((x - self.left) / self.width).clamp(0.0, 1.0);
        (f64::from(t) * self.last as f64).round() as u64
    }
}

impl Timeline {
    /// The track and the line below it; `recording` is whether the run's past is kept.
    /// `pins_full`: no room for the pin resuming would make.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        run: &RunView,
        recording: bool,
        pins_full: bool,
    ) -> Option<TimelineAction> {
        let present = run
            .timeline
            .latest()
            .unwrap_or(0)
            .max(if run.viewing.is_some() {
                0
            } else {
                run.status.step
            });
        let shown = run.viewing.map_or(present, |v| v.shown);
        let mut action = self.track_ui(ui, run, present, shown);
        ui.horizontal_wrapped(|ui| {
            if let Some(chosen) = Self::status_ui(ui, run, recording, pins_full) {
                action = Some(chosen);
            }
        });
        action
    }

    /// The track: kept states as ticks, the fork as a diamond, the handle at `shown`.
    fn track_ui(
        &mut self,
        ui: &mut Ui,
        run: &RunView,
        present: u64,
        shown: u64,
    ) -> Option<TimelineAction> {
        let width = ui.available_width();
        let (rect, response) =
            ui.allocate_exact_size(Vec2::new(width, TRACK_HEIGHT), Sense::click_and_drag());
        let response = response.on_hover_text(
            "Drag back to see the network as it was: every view shows the kept state nearest \
             the pointer. Ticks are the kept states",
        );
        let axis = StepAxis::new(rect, present);
        paint_track(ui, rect, axis, run, shown);
        if response.drag_started() || response.clicked() {
            // a new press asks again, even where the last one was
            self.asked = None;
        }
        let pointer = response
            .interact_pointer_pos()
            .filter(|_| response.dragged() || response.clicked() || response.drag_stopped());
        let asked = pointer.map(|p| axis.step(p.x))?;
        if run.timeline.kept.is_empty() {
            return None;
        }
        let nearest = run.timeline.nearest(asked);
        let changed = self.asked.and_then(|a| run.timeline.nearest(a)) != nearest;
        let released = response.drag_stopped() || response.clicked();
        if changed || (released && self.asked != Some(asked)) {
            self.asked = Some(asked);
            return Some(TimelineAction::View(asked));
        }
        None
    }

    /// What is on show and what can be done: back to now and resume while viewing the past;
    /// otherwise the memory the kept states take, and the switch to record them.
    fn status_ui(
        ui: &mut Ui,
        run: &RunView,
        recording: bool,
        pins_full: bool,
    ) -> Option<TimelineAction> {
        let mut action = None;
        if let Some(viewing) = run.viewing {
            ui.label(
                RichText::new(format!("Viewing {}", viewing.short()))
                    .strong()
                    .color(palette::MARKER),
            );
            if ui
                .button("Back to now")
                .on_hover_text("Show the run where it was before you went back")
                .clicked()
            {
                action = Some(TimelineAction::BackToPresent);
            }
            if resume_button(ui, pins_full).clicked() {
                action = Some(TimelineAction::ResumeHere);
            }
        } else {
            let summary = &run.timeline;
            let text = if !recording {
                "Record is off: no new state is kept".to_string()
            } else if summary.kept.is_empty() {
                "Nothing kept yet".to_string()
            } else {
                let n = summary.kept.len();
                format!(
                    "{} state{} kept · {} of {}",
                    group_digits(n),
                    if n == 1 { "" } else { "s" },
                    format_size(summary.bytes as u64),
                    format_size(summary.budget as u64)
                )
            };
            ui.label(RichText::new(text).weak()).on_hover_text(
                "The run's exact state is kept as often as costs about 1% of training time \
                 (at least once a second) and at every step while paused; older states are \
                 thinned out so that the memory they take never passes the budget",
            );
        }
        let mut on = recording;
        if ui
            .checkbox(&mut on, "Record")
            .on_hover_text("Keep the timeline and the histograms as the run trains")
            .changed()
        {
            action = Some(TimelineAction::SetRecording(on));
        }
        action
    }
}

/// "Resume from here", unavailable while 8 runs are pinned (the later part could not be).
pub fn resume_button(ui: &mut Ui, pins_full: bool) -> egui::Response {
    ui.add_enabled(!pins_full, egui::Button::new("Resume from here"))
        .on_hover_text("Go on training from this step; the later part of the run becomes a pin")
        .on_disabled_hover_text(
            "8 runs are pinned: remove one (right-click its name) so that the later part of \
             the run can become a pin",
        )
}

/// The track's line, its ticks, the fork and the handle.
fn paint_track(ui: &Ui, rect: Rect, axis: StepAxis, run: &RunView, shown: u64) {
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals();
    let middle = rect.center().y;
    let line = Stroke::new(2.0, visuals.widgets.inactive.bg_fill);
    painter.line_segment(
        [
            Pos2::new(axis.left, middle),
            Pos2::new(axis.left + axis.width, middle),
        ],
        line,
    );
    let tick = Stroke::new(1.0, visuals.text_color().gamma_multiply(0.6));
    let mut last_x = f32::NEG_INFINITY;
    for &(step, _) in &run.timeline.kept {
        // one tick per pixel column at most
        let x = axis.x(step).round();
        if x <= last_x {
            continue;
        }
        last_x = x;
        painter.line_segment(
            [Pos2::new(x, middle - 5.0), Pos2::new(x, middle + 5.0)],
            tick,
        );
    }
    if let Some((fork, _)) = run.fork {
        let c = Pos2::new(axis.x(fork), middle);
        let d = 5.0;
        painter.add(egui::Shape::convex_polygon(
            vec![
                Pos2::new(c.x, c.y - d),
                Pos2::new(c.x + d, c.y),
                Pos2::new(c.x, c.y + d),
                Pos2::new(c.x - d, c.y),
            ],
            palette::PINS[0],
            Stroke::NONE,
        ));
    }
    let handle = Pos2::new(axis.x(shown), middle);
    let color = if run.viewing.is_some() {
        palette::MARKER
    } else {
        visuals.text_color()
    };
    painter.circle(handle, 6.0, color, Stroke::new(1.5, Color32::BLACK));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_and_positions_map_both_ways_and_stay_on_the_track() {
        let rect = Rect::from_min_size(Pos2::new(10.0, 0.0), Vec2::new(416.0, 22.0));
        let axis = StepAxis::new(rect, 4000);
        assert_eq!(axis.step(axis.x(0)), 0);
        assert_eq!(axis.step(axis.x(4000)), 4000);
        assert_eq!(axis.step(axis.x(1234)), 1234);
        assert_eq!(axis.step(-50.0), 0);
        assert_eq!(axis.step(10_000.0), 4000);
    }
}
