//! The confusion matrix of the latest test evaluation: rows are true classes, columns predicted
//! ones; clicking a cell lists the examples behind it with their predicted probabilities.

use std::sync::Arc;

use egui::{Align2, FontId, Pos2, Rect, Sense, Stroke, Ui, UiBuilder, Vec2};

use super::heat;
use super::predictions::{self, TestImages};
use super::{View, ViewAction, ViewContext};
use crate::nn::predicted_class;
use crate::train::protocol::{Probe, RunInfo, Snapshot, TestOutputs};
use crate::ui::palette;

/// Room left of the cells for the row labels, and above them for "predicted" and the column
/// labels.
const LABEL_ROOM: Vec2 = Vec2::new(26.0, 40.0);
/// The smallest cell: its count stays legible.
pub const MIN_CELL: f32 = 18.0;
/// Space between the matrix and the examples.
const GAP: f32 = 8.0;
/// The smallest examples area: the heading and one card, with a scroll bar.
const MIN_EXAMPLES: Vec2 = Vec2::new(
    predictions::CARD_SIZE.x + 24.0,
    predictions::CARD_SIZE.y + 40.0,
);
/// The size of "predicted" over the columns.
const AXIS_FONT_SIZE: f32 = 12.0;

#[derive(Default)]
pub struct ConfusionView {
    /// The clicked cell: (true class, predicted class).
    pub selected: Option<(usize, usize)>,
    /// counts[true][predicted] of the outputs last shown.
    pub counts: Vec<Vec<usize>>,
    counted: Option<Arc<TestOutputs>>,
    /// Where the last frame drew the cells.
    pub grid_rect: Option<Rect>,
}

/// counts[true][predicted] over the test split.
pub fn confusion(outputs: &TestOutputs, labels: &[usize], classes: usize) -> Vec<Vec<usize>> {
    let classes = classes.max(2);
    let mut counts = vec![vec![0; classes]; classes];
    for (row, &label) in outputs.outputs.rows().into_iter().zip(labels) {
        let predicted = predicted_class(row).min(classes - 1);
        counts[label.min(classes - 1)][predicted] += 1;
    }
    counts
}

/// Where the matrix and the selected cell's examples go.
#[derive(Clone, Copy, Debug, PartialEq)]
struct MatrixLayout {
    /// The matrix with its labels.
    matrix: Rect,
    /// The cells.
    grid: Rect,
    /// The examples, when a cell is selected.
    examples: Option<Rect>,
}

impl MatrixLayout {
    /// Lays out `classes` x `classes` cells from the top left of `space`, and the examples if
    /// `with_examples`: beside the matrix when both fit side by side and that leaves the cells
    /// at least as large as under it, else under it. The examples get at least 30% of the
    /// space, and all that the square matrix leaves. Cells never shrink below [`MIN_CELL`] nor
    /// the examples below [`MIN_EXAMPLES`]: when `space` cannot hold that, the layout is larger
    /// than `space` and the view scrolls.
    fn new(space: Rect, classes: usize, with_examples: bool) -> Self {
        let n = classes.max(1) as f32;
        let size = space.size();
        // the largest cell with which the matrix fits in `room`
        let cell_in = |room: Vec2| ((room - LABEL_ROOM) / n).min_elem();
        let beside_room = size - Vec2::new(GAP + MIN_EXAMPLES.x.max(0.3 * size.x), 0.0);
        let below_room = size - Vec2::new(0.0, GAP + MIN_EXAMPLES.y.max(0.3 * size.y));
        let beside_fits = size.x >= LABEL_ROOM.x + n * MIN_CELL + GAP + MIN_EXAMPLES.x;
        // cells at their minimum either way: beside, where the examples are larger
        let beside = with_examples
            && beside_fits
            && cell_in(beside_room).max(MIN_CELL) >= cell_in(below_room).max(MIN_CELL);
        let cell = if !with_examples {
            cell_in(size)
        } else if beside {
            cell_in(beside_room)
        } else {
            cell_in(below_room)
        };
        let grid = Rect::from_min_size(space.min + LABEL_ROOM, Vec2::splat(cell.max(MIN_CELL) * n));
        let matrix = Rect::from_min_max(space.min, grid.max);
        let examples = with_examples.then(|| {
            let min = if beside {
                Pos2::new(matrix.right() + GAP, space.top())
            } else {
                Pos2::new(space.left(), matrix.bottom() + GAP)
            };
            let max = Pos2::new(
                space.right().max(min.x + MIN_EXAMPLES.x),
                space.bottom().max(min.y + MIN_EXAMPLES.y),
            );
            Rect::from_min_max(min, max)
        });
        Self {
            matrix,
            grid,
            examples,
        }
    }

    /// All that the layout takes.
    fn bounds(&self) -> Rect {
        self.examples.map_or(self.matrix, |e| self.matrix.union(e))
    }
}

/// The text size in cells `cell` points wide.
fn cell_font_size(cell: f32) -> f32 {
    (cell * 0.4).clamp(9.0, 15.0)
}

/// What a cell says of its count: the count, else shorter ("1.2k", "1k"), the first that
/// `fits`; nothing for zero or when none fits (the tooltip still gives it).
fn count_text(count: usize, fits: impl Fn(&str) -> bool) -> Option<String> {
    if count == 0 {
        return None;
    }
    let mut candidates = vec![count.to_string()];
    if count >= 1000 {
        let tenths = (count + 50) / 100;
        if tenths < 100 && !tenths.is_multiple_of(10) {
            candidates.push(format!("{}.{}k", tenths / 10, tenths % 10));
        }
        candidates.push(format!("{}k", (count + 500) / 1000));
    }
    candidates.into_iter().find(|text| fits(text.as_str()))
}

/// One text of the matrix: where it goes, its size in points and whether it is a count.
#[derive(Clone, Debug, PartialEq)]
struct Label {
    text: String,
    rect: Rect,
    font_size: f32,
    count: bool,
}

/// Every text of the matrix: "predicted", the class `names` over the columns and left of the
/// rows, and each cell's count; `measure(text, size)` is a text's size. A label that cannot fit
/// its place is shortened or left out, so that none overlaps another or leaves the matrix.
fn labels(
    layout: &MatrixLayout,
    names: &[String],
    counts: &[Vec<usize>],
    measure: impl Fn(&str, f32) -> Vec2,
) -> Vec<Label> {
    let (matrix, grid) = (layout.matrix, layout.grid);
    let cell = grid.width() / counts.len().max(1) as f32;
    let font_size = cell_font_size(cell);
    let mut labels = Vec::new();
    let axis = measure("predicted", AXIS_FONT_SIZE);
    let axis_left = (grid.center().x - axis.x / 2.0)
        .min(matrix.right() - axis.x)
        .max(matrix.left());
    let axis = Rect::from_min_size(Pos2::new(axis_left, matrix.top()), axis);
    labels.push(Label {
        text: "predicted".into(),
        rect: axis,
        font_size: AXIS_FONT_SIZE,
        count: false,
    });
    for (k, name) in names.iter().enumerate().take(counts.len()) {
        let size = measure(name.as_str(), font_size);
        let middle = cell * (k as f32 + 0.5);
        let column = Rect::from_min_size(
            Pos2::new(
                grid.left() + middle - size.x / 2.0,
                grid.top() - 2.0 - size.y,
            ),
            size,
        );
        if size.x <= cell - 2.0 && column.top() >= axis.bottom() {
            labels.push(Label {
                text: name.clone(),
                rect: column,
                font_size,
                count: false,
            });
        }
        let row = Rect::from_min_size(
            Pos2::new(
                grid.left() - 4.0 - size.x,
                grid.top() + middle - size.y / 2.0,
            ),
            size,
        );
        if row.left() >= matrix.left() && size.y <= cell {
            labels.push(Label {
                text: name.clone(),
                rect: row,
                font_size,
                count: false,
            });
        }
    }
    let fits = |text: &str| {
        let size = measure(text, font_size);
        size.x <= cell - 2.0 && size.y <= cell
    };
    for (t, row) in counts.iter().enumerate() {
        for (p, &count) in row.iter().enumerate() {
            if let Some(text) = count_text(count, fits) {
                let center = grid.min + Vec2::new(cell * (p as f32 + 0.5), cell * (t as f32 + 0.5));
                let rect = Rect::from_center_size(center, measure(text.as_str(), font_size));
                labels.push(Label {
                    text,
                    rect,
                    font_size,
                    count: true,
                });
            }
        }
    }
    labels
}

impl ConfusionView {
    /// The test samples in the selected cell, in test-split order.
    pub fn examples(&self, info: &RunInfo) -> Vec<usize> {
        let (Some((truth, predicted)), Some(outputs)) = (self.selected, &self.counted) else {
            return Vec::new();
        };
        info.test
            .labels
            .iter()
            .zip(outputs.outputs.rows())
            .enumerate()
            .filter(|(_, (label, row))| **label == truth && predicted_class(*row) == predicted)
            .map(|(i, _)| i)
            .collect()
    }

    fn show(
        &mut self,
        ui: &mut Ui,
        info: Option<&RunInfo>,
        snapshot: Option<&Arc<Snapshot>>,
        images: &mut TestImages,
    ) -> Option<Probe> {
        self.grid_rect = None;
        let Some(info) = info else {
            ui.label("Waiting for the trainer...");
            return None;
        };
        let Some(outputs) = snapshot.and_then(|s| s.test_outputs.clone()) else {
            ui.label("Waiting for the first test evaluation...");
            return None;
        };
        if outputs.outputs.nrows() != info.test.len() {
            ui.label("Waiting for the new run's first evaluation...");
            return None;
        }
        if !self
            .counted
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(c, &outputs))
        {
            self.counts = confusion(&outputs, &info.test.labels, info.classes);
            self.counted = Some(outputs.clone());
        }
        let classes = self.counts.len();
        let total: usize = self.counts.iter().flatten().sum();
        let right: usize = (0..classes).map(|k| self.counts[k][k]).sum();
        let header = format!(
            "{} at step {}: {right} right ({:.1}%). Rows: true class, columns: predicted. \
             Click a cell for its examples.",
            heat::counted(total, "test sample", "test samples"),
            outputs.step,
            100.0 * right as f64 / total.max(1) as f64
        );

        let mut probe = None;
        // a tile too small for readable cells and the examples scrolls
        egui::ScrollArea::both()
            .id_salt("confusion")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.label(header);
                let space = ui.available_rect_before_wrap();
                let layout = MatrixLayout::new(space, classes, self.selected.is_some());
                ui.advance_cursor_after_rect(layout.bounds());
                let response =
                    ui.interact(layout.matrix, ui.scope_id().with("matrix"), Sense::click());
                self.matrix(ui, &layout, &response, info);
                if let Some(rect) = layout.examples {
                    let mut list = ui.new_child(
                        UiBuilder::new()
                            .max_rect(rect)
                            .id_salt("confusion-examples"),
                    );
                    list.shrink_clip_rect(rect);
                    probe = self.example_list(&mut list, info, &outputs, images);
                }
            });
        probe
    }

    fn matrix(
        &mut self,
        ui: &Ui,
        layout: &MatrixLayout,
        response: &egui::Response,
        info: &RunInfo,
    ) {
        let classes = self.counts.len();
        let painter = ui.painter_at(layout.matrix);
        let grid = layout.grid;
        self.grid_rect = Some(grid);
        let cell = grid.width() / classes as f32;
        for (t, row) in self.counts.iter().enumerate() {
            let row_total = row.iter().sum::<usize>().max(1) as f32;
            for (p, &count) in row.iter().enumerate() {
                let cell_rect = Rect::from_min_size(
                    grid.min + Vec2::new(cell * p as f32, cell * t as f32),
                    Vec2::splat(cell),
                );
                let share = count as f32 / row_total;
                let color = if t == p {
                    palette::CORRECT
                } else {
                    palette::WRONG
                };
                let fill = ui
                    .visuals()
                    .extreme_bg_color
                    .lerp_to_gamma(color, share.sqrt());
                painter.rect_filled(cell_rect.shrink(0.5), 2.0, fill);
                if self.selected == Some((t, p)) {
                    painter.rect_stroke(
                        cell_rect.shrink(1.0),
                        2.0,
                        Stroke::new(2.5, ui.visuals().strong_text_color()),
                        egui::StrokeKind::Inside,
                    );
                }
            }
        }
        let names: Vec<String> = (0..classes)
            .map(|k| predictions::class_name(info, k).replace("class ", ""))
            .collect();
        let measure =
            |text: &str, size: f32| heat::text_size(&painter, text, &FontId::proportional(size));
        for label in labels(layout, &names, &self.counts, measure) {
            let color = if label.count {
                ui.visuals().strong_text_color()
            } else {
                ui.visuals().text_color()
            };
            painter.text(
                label.rect.min,
                Align2::LEFT_TOP,
                label.text,
                FontId::proportional(label.font_size),
                color,
            );
        }
        let under = response
            .hover_pos()
            .and_then(|p| heat::cell_at(grid, classes, classes, p))
            .map(|(p, t)| (t, p));
        if let Some((t, p)) = under {
            response.clone().on_hover_text_at_pointer(format!(
                "true {}, predicted {}: {}",
                predictions::class_name(info, t),
                predictions::class_name(info, p),
                heat::counted(self.counts[t][p], "example", "examples")
            ));
            if response.clicked() {
                self.selected = if self.selected == Some((t, p)) {
                    None
                } else {
                    Some((t, p))
                };
            }
        }
    }

    fn example_list(
        &mut self,
        ui: &mut Ui,
        info: &RunInfo,
        outputs: &TestOutputs,
        images: &mut TestImages,
    ) -> Option<Probe> {
        let (t, p) = self.selected?;
        let examples = self.examples(info);
        ui.horizontal_wrapped(|ui| {
            ui.strong(format!(
                "true {}, predicted {}: {}",
                predictions::class_name(info, t),
                predictions::class_name(info, p),
                heat::counted(examples.len(), "example", "examples")
            ));
            if ui.small_button("Close").clicked() {
                self.selected = None;
            }
        });
        predictions::card_grid(
            ui,
            "confusion-examples",
            images,
            info,
            outputs,
            &examples,
            None,
        )
    }
}

impl View for ConfusionView {
    fn id(&self) -> &'static str {
        "confusion"
    }

    fn title(&self) -> &'static str {
        "Confusion matrix"
    }

    fn tooltip(&self) -> &'static str {
        "True against predicted class on the test split; click a cell for its examples"
    }

    fn min_size(&self) -> egui::Vec2 {
        // ten rows of readable cells with their labels
        egui::Vec2::new(300.0, 300.0)
    }

    fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewContext<'_>) {
        if let Some(probe) = self.show(ui, ctx.run.info.as_ref(), ctx.snapshot, ctx.images) {
            ctx.actions.push(ViewAction::SetProbe(probe));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::views::heat::test_fonts::with_fonts;

    fn space(width: f32, height: f32) -> Rect {
        Rect::from_min_size(Pos2::new(40.0, 90.0), Vec2::new(width, height))
    }

    /// Two rects share some area (touching edges do not count).
    fn overlap(a: Rect, b: Rect) -> bool {
        a.intersect(b).is_positive()
    }

    #[test]
    fn cells_stay_readable_and_the_examples_apart_from_the_matrix() {
        for classes in [2, 10] {
            let needed = LABEL_ROOM + Vec2::splat(classes as f32 * MIN_CELL);
            for width in (150..=1600).step_by(50) {
                for height in (100..=1000).step_by(50) {
                    let space = space(width as f32, height as f32);
                    for with_examples in [false, true] {
                        let what =
                            format!("{classes} classes in {width}x{height} ({with_examples})");
                        let layout = MatrixLayout::new(space, classes, with_examples);
                        let cell = layout.grid.width() / classes as f32;
                        assert!(cell >= MIN_CELL, "{what}: cells of {cell}");
                        assert!((layout.grid.height() - layout.grid.width()).abs() < 1e-3);
                        assert_eq!(layout.matrix.min, space.min, "{what}");
                        assert!(layout.matrix.contains_rect(layout.grid), "{what}");
                        assert_eq!(layout.examples.is_some(), with_examples, "{what}");
                        if let Some(examples) = layout.examples {
                            assert!(!overlap(examples, layout.matrix), "{what}");
                            assert!(
                                examples.width() >= MIN_EXAMPLES.x - 1e-3
                                    && examples.height() >= MIN_EXAMPLES.y - 1e-3,
                                "{what}: examples in {examples:?}"
                            );
                        }
                        // whatever the space can hold stays inside it
                        let fits = if with_examples {
                            width as f32 >= needed.x + GAP + MIN_EXAMPLES.x
                                && height as f32 >= needed.y.max(MIN_EXAMPLES.y)
                        } else {
                            width as f32 >= needed.x && height as f32 >= needed.y
                        };
                        if fits {
                            let bounds = layout.bounds();
                            assert!(space.expand(1e-3).contains_rect(bounds), "{what}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn examples_go_beside_a_wide_matrix_and_under_a_tall_one() {
        let wide = MatrixLayout::new(space(1000.0, 500.0), 10, true);
        let examples = wide.examples.expect("examples");
        assert!(examples.left() >= wide.matrix.right() + GAP - 1e-3);
        assert_eq!(examples.top(), wide.matrix.top());
        let tall = MatrixLayout::new(space(300.0, 900.0), 10, true);
        let examples = tall.examples.expect("examples");
        assert!(examples.top() >= tall.matrix.bottom() + GAP - 1e-3);
        assert_eq!(examples.left(), tall.matrix.left());
        // a tile of 400x300 used to squeeze the cells to 14 points
        let small = MatrixLayout::new(space(400.0, 300.0), 10, true);
        assert!(small.grid.width() / 10.0 >= MIN_CELL);
    }

    #[test]
    fn counts_shorten_then_drop_when_the_cell_is_narrow() {
        let at_most = |chars: usize| move |text: &str| text.chars().count() <= chars;
        assert_eq!(count_text(0, at_most(9)), None);
        assert_eq!(count_text(7, at_most(9)).as_deref(), Some("7"));
        assert_eq!(count_text(1234, at_most(4)).as_deref(), Some("1234"));
        assert_eq!(count_text(1234, at_most(3)).as_deref(), Some("1k"));
        assert_eq!(
            count_text(1234, |text: &str| text.contains('.')).as_deref(),
            Some("1.2k")
        );
        assert_eq!(count_text(1950, at_most(3)).as_deref(), Some("2k"));
        assert_eq!(count_text(12345, at_most(4)).as_deref(), Some("12k"));
        assert_eq!(count_text(123, at_most(2)), None);
    }

    #[test]
    fn no_label_overlaps_another_or_leaves_the_matrix() {
        with_fonts(|measure| {
            for classes in [2, 10] {
                let names: Vec<String> = (0..classes).map(|k| k.to_string()).collect();
                let some = [0, 3, 47, 123, 999, 1500, 12345, 9];
                let counts: Vec<Vec<usize>> = (0..classes)
                    .map(|t| (0..classes).map(|p| some[(t * 7 + p * 3) % 8]).collect())
                    .collect();
                let small = counts
                    .iter()
                    .flatten()
                    .filter(|c| (1..100).contains(*c))
                    .count();
                for width in (150..=1400).step_by(125) {
                    for height in (100..=900).step_by(100) {
                        for with_examples in [false, true] {
                            let space = space(width as f32, height as f32);
                            let layout = MatrixLayout::new(space, classes, with_examples);
                            let labels = labels(&layout, &names, &counts, measure);
                            let what = format!("{classes} classes in {width}x{height}");
                            for (k, a) in labels.iter().enumerate() {
                                let inside = layout.matrix.expand(1e-3).contains_rect(a.rect);
                                assert!(inside, "{what}: {a:?}");
                                for b in &labels[k + 1..] {
                                    assert!(!overlap(a.rect, b.rect), "{what}: {a:?} and {b:?}");
                                }
                            }
                            // every class name shows, over its column and beside its row, and
                            // every count under 100
                            let names_shown = labels
                                .iter()
                                .filter(|l| !l.count && l.text != "predicted")
                                .count();
                            assert_eq!(names_shown, 2 * classes, "{what}");
                            let counts_shown = labels.iter().filter(|l| l.count).count();
                            assert!(counts_shown >= small, "{what}");
                        }
                    }
                }
            }
        });
    }
}
