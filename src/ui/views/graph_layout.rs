//! Where the network graph's parts go: columns, nodes, blocks and every label, a pure function
//! of the columns, the rect and a text measure. Labels that do not fit are shortened or left
//! to the hover text, so that no two can overlap and none leaves the rect.

use egui::{Pos2, Rect, Vec2};

use crate::nn::{LayerSpec, Shape};

/// Most nodes one column shows (fewer when the view is small: nodes stay readable).
pub const MAX_NODES: usize = 16;
/// Narrowest a column gets; a deeper network scrolls sideways instead.
const MIN_COLUMN: f32 = 34.0;
/// Most lines a column title wraps to.
const MAX_TITLE_LINES: usize = 3;
const TITLE_SIZE: f32 = 12.0;
const SHORT_TITLE_SIZE: f32 = 11.0;
const BLOCK_TEXT_SIZE: f32 = 11.0;
const MORE_SIZE: f32 = 12.0;
const OUTPUT_SIZE: f32 = 12.0;
/// Smallest font a label is drawn at; below it, labels are thinned out or dropped.
const MIN_TEXT_SIZE: f32 = 8.0;

/// A layer of the graph: `None` is the input.
pub type LayerId = Option<usize>;

/// Size of `text` drawn at a font size, as the painter would lay it out.
pub type Measure<'a> = &'a dyn Fn(&str, f32) -> Vec2;

pub enum ColumnKind {
    /// Units as nodes: the shown unit indices (at most MAX_NODES) of `total`.
    Nodes { shown: Vec<usize>, total: usize },
    /// A layer too big for nodes (images, conv, pooling), with its output shape.
    Block { shape: Option<Shape> },
}

pub struct Column {
    pub layer: LayerId,
    /// The full title, one entry per line (wrapped further on word boundaries if needed).
    pub title: Vec<String>,
    /// The title when the full one cannot fit.
    pub short_title: String,
    pub kind: ColumnKind,
    /// What each shown unit stands for (the output column only).
    pub outputs: Vec<String>,
}

impl Column {
    /// The whole story of the column, for its hover text.
    pub fn description(&self) -> String {
        let mut text = self.title.join(", ");
        if let ColumnKind::Nodes { shown, total } = &self.kind
            && *total > shown.len()
        {
            text += &format!(
                "\n{} of {total} units shown (the largest incoming weights)",
                shown.len()
            );
        }
        text
    }
}

/// The columns of a network: the input, then each layer that moves data (dropout and flatten
/// are noted on the next column). `weights[i]` is layer i's weight [out, in], when it has one;
/// `output_name(outputs, unit)` names an output unit.
pub fn columns(
    input_shape: Shape,
    specs: &[LayerSpec],
    weights: &[Option<&ndarray::Array2<f32>>],
    most: usize,
    output_name: &dyn Fn(usize, usize) -> String,
) -> Vec<Column> {
    let input_len = input_shape.len();
    let mut columns = vec![Column {
        layer: None,
        title: vec!["input".into(), input_shape.to_string()],
        short_title: input_shape.to_string(),
        kind: if input_shape.is_flat() && input_len <= MAX_NODES {
            ColumnKind::Nodes {
                shown: (0..input_len).collect(),
                total: input_len,
            }
        } else {
            ColumnKind::Block { shape: None }
        },
        outputs: Vec::new(),
    }];
    let mut note = None;
    let mut shape = Some(input_shape);
    for (i, spec) in specs.iter().enumerate() {
        shape = shape.and_then(|s| spec.output_shape(s).ok());
        let (mut title, short_title, kind) = match spec {
            // no data moves: the next column says it was there
            LayerSpec::Dropout { rate } => {
                note = Some(format!("dropout {rate}"));
                continue;
            }
            LayerSpec::Flatten => continue,
            LayerSpec::Dense { units, activation } => {
                // the output layer shows all its units when they fit at all
                let most = if i + 1 == specs.len() {
                    MAX_NODES
                } else {
                    most
                };
                let weight = weights.get(i).copied().flatten();
                (
                    vec![format!("{units} {}", activation.name())],
                    units.to_string(),
                    ColumnKind::Nodes {
                        shown: strongest_units(weight, *units, most),
                        total: *units,
                    },
                )
            }
            LayerSpec::Conv2d {
                filters,
                kernel,
                activation,
                ..
            } => (
                vec![
                    format!("conv {filters} {kernel}x{kernel}"),
                    activation.name().to_string(),
                ],
                format!("c{filters}"),
                ColumnKind::Block { shape },
            ),
            LayerSpec::MaxPool2d { size } => (
                vec!["max pool".into(), format!("{size}x{size}")],
                format!("pool{size}"),
                ColumnKind::Block { shape },
            ),
        };
        title.extend(note.take());
        let outputs = match &kind {
            ColumnKind::Nodes { shown, total } if i + 1 == specs.len() => {
                shown.iter().map(|&u| output_name(*total, u)).collect()
            }
            _ => Vec::new(),
        };
        columns.push(Column {
            layer: Some(i),
            title,
            short_title,
            kind,
            outputs,
        });
    }
    columns
}

/// The units of a dense layer to show: all if they fit, else the `most` with the largest
/// incoming weights (L2 norm of their row of W [out, in]), in index order.
fn strongest_units(weight: Option<&ndarray::Array2<f32>>, total: usize, most: usize) -> Vec<usize> {
    if total <= most {
        return (0..total).collect();
    }
    let Some(weight) = weight else {
        return (0..most).collect();
    };
    let mut norms: Vec<(usize, f32)> = weight
        .rows()
        .into_iter()
        .enumerate()
        .map(|(i, row)| (i, row.iter().map(|w| w * w).sum::<f32>()))
        .collect();
    norms.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut shown: Vec<usize> = norms.iter().take(most).map(|&(i, _)| i).collect();
    shown.sort_unstable();
    shown
}

/// What a placed label is, so the painter knows what to write and how.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TextRole {
    Title(usize),
    /// A block's output shape.
    BlockShape(usize),
    /// A block's share of active units: its rect fits "100%".
    BlockShare(usize),
    BlockActive(usize),
    /// "+N more" under a column of nodes.
    More(usize),
    /// The label of shown output unit k.
    Output(usize),
}

#[derive(Clone, Debug, PartialEq)]
pub struct PlacedText {
    pub role: TextRole,
    pub text: String,
    pub rect: Rect,
    pub size: f32,
}

/// Where everything goes.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphLayout {
    /// The centre line of each column.
    pub column_x: Vec<f32>,
    /// Per column, the shown units with their centres (empty for a block).
    pub nodes: Vec<Vec<(usize, Pos2)>>,
    pub radius: f32,
    /// Blocks sit in the middle of their column, this size.
    block_size: Vec2,
    /// The band the nodes fill, between the titles and the "+N more" labels.
    pub top: f32,
    pub bottom: f32,
    /// Width of one column.
    pub step_x: f32,
    /// Every label, none overlapping another.
    pub texts: Vec<PlacedText>,
    /// Per column, the title band (hovered: the column's description).
    pub headers: Vec<Rect>,
}

/// Widest of `texts` at `size`.
fn widest(texts: &[String], size: f32, measure: Measure<'_>) -> f32 {
    texts.iter().map(|t| measure(t, size).x).fold(0.0, f32::max)
}

/// `lines` wrapped on word boundaries to `width`; `None` if a word alone is wider.
fn wrap(lines: &[String], width: f32, size: f32, measure: Measure<'_>) -> Option<Vec<String>> {
    let mut wrapped = Vec::new();
    for line in lines {
        let mut current = String::new();
        for word in line.split_whitespace() {
            let candidate = if current.is_empty() {
                word.to_string()
            } else {
                format!("{current} {word}")
            };
            if measure(&candidate, size).x <= width {
                current = candidate;
            } else if measure(word, size).x <= width && !current.is_empty() {
                wrapped.push(std::mem::replace(&mut current, word.to_string()));
            } else {
                return None;
            }
        }
        if !current.is_empty() {
            wrapped.push(current);
        }
    }
    Some(wrapped)
}

/// A column's title as it fits `width`: the full one wrapped, else the short one, else none.
fn fit_title(column: &Column, width: f32, measure: Measure<'_>) -> (Vec<String>, f32) {
    if let Some(lines) = wrap(&column.title, width, TITLE_SIZE, measure)
        && lines.len() <= MAX_TITLE_LINES
    {
        return (lines, TITLE_SIZE);
    }
    if measure(&column.short_title, SHORT_TITLE_SIZE).x <= width {
        return (vec![column.short_title.clone()], SHORT_TITLE_SIZE);
    }
    (Vec::new(), SHORT_TITLE_SIZE)
}

impl GraphLayout {
    /// Room the output labels need on the right of the last column.
    fn output_room(columns: &[Column], measure: Measure<'_>) -> f32 {
        columns.last().map_or(0.0, |c| {
            if c.outputs.is_empty() {
                4.0
            } else {
                widest(&c.outputs, OUTPUT_SIZE, measure) + 4.0
            }
        })
    }

    /// The narrowest width the columns are readable at: wider than the view, it scrolls.
    pub fn min_width(columns: &[Column], measure: Measure<'_>) -> f32 {
        MIN_COLUMN * columns.len() as f32 + Self::output_room(columns, measure)
    }

    /// Columns spread over the width (with room on the right for the output labels), titles
    /// at the top, each column's nodes evenly spaced and centred, one radius for all nodes.
    pub fn new(rect: Rect, columns: &[Column], thumbnails: bool, measure: Measure<'_>) -> Self {
        let n = columns.len().max(1);
        let step_x = ((rect.width() - Self::output_room(columns, measure)) / n as f32).max(1.0);
        let column_x: Vec<f32> = (0..columns.len())
            .map(|c| rect.left() + step_x * (c as f32 + 0.5))
            .collect();
        let mut texts = Vec::new();

        // titles, one band for all
        let title_top = rect.top() + 2.0;
        let mut title_bottom = title_top;
        for (c, column) in columns.iter().enumerate() {
            let (lines, size) = fit_title(column, step_x - 6.0, measure);
            let mut y = title_top;
            for line in lines {
                let extent = measure(&line, size);
                texts.push(PlacedText {
                    role: TextRole::Title(c),
                    rect: Rect::from_min_size(Pos2::new(column_x[c] - extent.x / 2.0, y), extent),
                    text: line,
                    size,
                });
                y += extent.y;
            }
            title_bottom = title_bottom.max(y);
        }
        let headers = column_x
            .iter()
            .map(|&x| {
                Rect::from_x_y_ranges(
                    x - step_x / 2.0..=x + step_x / 2.0,
                    rect.top()..=title_bottom.max(title_top + 12.0),
                )
            })
            .collect();

        let hidden = |column: &Column| match &column.kind {
            ColumnKind::Nodes { shown, total } => total - shown.len(),
            ColumnKind::Block { .. } => 0,
        };
        let more_height = if columns.iter().any(|c| hidden(c) > 0) {
            measure("+0", MORE_SIZE).y + 4.0
        } else {
            2.0
        };
        let top = title_bottom + 8.0;
        let bottom = (rect.bottom() - more_height - 4.0).max(top + 8.0);

        let mut radius = if thumbnails { 22.0 } else { 14.0f32 };
        radius = radius.min(step_x * 0.3);
        let nodes: Vec<Vec<(usize, Pos2)>> = columns
            .iter()
            .zip(&column_x)
            .map(|(column, &x)| match &column.kind {
                ColumnKind::Nodes { shown, .. } => {
                    let spacing = (bottom - top) / shown.len().max(1) as f32;
                    radius = radius.min(spacing * 0.42);
                    let start = (top + bottom - spacing * shown.len() as f32) / 2.0 + spacing / 2.0;
                    shown
                        .iter()
                        .enumerate()
                        .map(|(k, &unit)| (unit, Pos2::new(x, start + spacing * k as f32)))
                        .collect()
                }
                ColumnKind::Block { .. } => Vec::new(),
            })
            .collect();
        let block_size = Vec2::new(
            (step_x - 10.0).clamp(4.0, 110.0),
            ((bottom - top) * 0.6).max(4.0),
        );
        let mut layout = Self {
            column_x,
            nodes,
            radius: radius.max(1.0),
            block_size,
            top,
            bottom,
            step_x,
            texts,
            headers,
        };
        for (c, column) in columns.iter().enumerate() {
            match &column.kind {
                ColumnKind::Block { shape: Some(shape) } => {
                    layout.place_block_labels(c, &shape.to_string(), measure);
                }
                ColumnKind::Block { shape: None } => {}
                ColumnKind::Nodes { .. } => {
                    let hidden = hidden(column);
                    if hidden > 0 {
                        layout.place_more(c, hidden, rect.bottom(), measure);
                    }
                }
            }
        }
        if let Some(last) = columns.last() {
            layout.place_outputs(columns.len() - 1, &last.outputs, measure);
        }
        layout
    }

    pub fn block_rect(&self, column: usize) -> Rect {
        Rect::from_center_size(
            Pos2::new(self.column_x[column], (self.top + self.bottom) / 2.0),
            self.block_size,
        )
    }

    /// The block's shape, share of active units and "active", as many lines as fit inside.
    fn place_block_labels(&mut self, c: usize, shape: &str, measure: Measure<'_>) {
        let inner = self.block_rect(c).shrink(3.0);
        let lines = [
            (TextRole::BlockShape(c), shape),
            (TextRole::BlockShare(c), "100%"),
            (TextRole::BlockActive(c), "active"),
        ];
        let candidates: [&[usize]; 4] = [&[0, 1, 2], &[0, 1], &[0], &[1]];
        for candidate in candidates {
            let extents: Vec<Vec2> = candidate
                .iter()
                .map(|&i| measure(lines[i].1, BLOCK_TEXT_SIZE))
                .collect();
            let height: f32 = extents.iter().map(|e| e.y).sum();
            if extents.iter().all(|e| e.x <= inner.width()) && height <= inner.height() {
                let mut y = inner.center().y - height / 2.0;
                for (&i, extent) in candidate.iter().zip(extents) {
                    self.texts.push(PlacedText {
                        role: lines[i].0,
                        text: lines[i].1.to_string(),
                        rect: Rect::from_min_size(
                            Pos2::new(inner.center().x - extent.x / 2.0, y),
                            extent,
                        ),
                        size: BLOCK_TEXT_SIZE,
                    });
                    y += extent.y;
                }
                return;
            }
        }
    }

    /// "+N more" (or "+N") under column `c`, if it fits the column.
    fn place_more(&mut self, c: usize, hidden: usize, floor: f32, measure: Measure<'_>) {
        for text in [format!("+{hidden} more"), format!("+{hidden}")] {
            let extent = measure(&text, MORE_SIZE);
            if extent.x <= self.step_x - 4.0 {
                let top = (self.bottom + 4.0).min(floor - extent.y);
                self.texts.push(PlacedText {
                    role: TextRole::More(c),
                    rect: Rect::from_min_size(
                        Pos2::new(self.column_x[c] - extent.x / 2.0, top),
                        extent,
                    ),
                    text,
                    size: MORE_SIZE,
                });
                return;
            }
        }
    }

    /// The output units' names right of their nodes, smaller where the nodes are close, and
    /// only every k-th where even the smallest font is taller than the spacing.
    fn place_outputs(&mut self, c: usize, names: &[String], measure: Measure<'_>) {
        let nodes = &self.nodes[c];
        if names.is_empty() || nodes.len() != names.len() {
            return;
        }
        let spacing = match nodes.as_slice() {
            [a, b, ..] => b.1.y - a.1.y,
            _ => self.bottom - self.top,
        };
        let line = |size: f32| measure("Ag", size).y;
        let Some((every, size)) = (1..=nodes.len()).find_map(|every| {
            let room = spacing * every as f32 - 1.0;
            let size = (OUTPUT_SIZE * room / line(OUTPUT_SIZE)).min(OUTPUT_SIZE);
            (size >= MIN_TEXT_SIZE && line(size) <= room).then_some((every, size))
        }) else {
            return;
        };
        let x = self.column_x[c] + self.radius + 4.0;
        // the band of the nodes: "+N more" and the titles are outside it
        let band = self.top - 4.0..=self.bottom + 3.0;
        let placed: Vec<PlacedText> = nodes
            .iter()
            .zip(names)
            .enumerate()
            .filter(|(k, _)| k % every == 0)
            .map(|(k, (&(_, at), name))| {
                let extent = measure(name, size);
                PlacedText {
                    role: TextRole::Output(k),
                    text: name.clone(),
                    rect: Rect::from_min_size(Pos2::new(x, at.y - extent.y / 2.0), extent),
                    size,
                }
            })
            .filter(|t| band.contains(&t.rect.top()) && band.contains(&t.rect.bottom()))
            .collect();
        self.texts.extend(placed);
    }

    /// The drawn segment of an edge between two node centres: from the right of one node to
    /// the left of the other.
    pub fn edge(&self, from: Pos2, to: Pos2) -> (Pos2, Pos2) {
        (
            from + Vec2::new(self.radius, 0.0),
            to - Vec2::new(self.radius, 0.0),
        )
    }

    /// The node under `p`: (column, unit).
    pub fn node_at(&self, p: Pos2) -> Option<(usize, usize)> {
        self.nodes.iter().enumerate().find_map(|(c, nodes)| {
            nodes
                .iter()
                .find(|(_, at)| at.distance(p) <= self.radius + 2.0)
                .map(|&(unit, _)| (c, unit))
        })
    }

    /// The edge under `p` (within 4 points of its segment, the nearest): (column it enters,
    /// from unit, to unit).
    pub fn edge_at(&self, p: Pos2) -> Option<(usize, usize, usize)> {
        let mut best: Option<(f32, (usize, usize, usize))> = None;
        for c in 1..self.nodes.len() {
            for &(j, to) in &self.nodes[c] {
                for &(i, from) in &self.nodes[c - 1] {
                    let (a, b) = self.edge(from, to);
                    let d = distance_to_segment(p, a, b);
                    if d < 4.0 && best.is_none_or(|(nearest, _)| d < nearest) {
                        best = Some((d, (c, i, j)));
                    }
                }
            }
        }
        best.map(|(_, edge)| edge)
    }
}

/// Distance from `p` to the segment a-b.
fn distance_to_segment(p: Pos2, a: Pos2, b: Pos2) -> f32 {
    let ab = b - a;
    let t = ((p - a).dot(ab) / ab.length_sq().max(1e-6)).clamp(0.0, 1.0);
    (a + ab * t).distance(p)
}

/// How many nodes a column of a view `height` tall shows.
pub fn node_budget(height: f32, thumbnails: bool) -> usize {
    let spacing = if thumbnails { 34.0 } else { 22.0 };
    ((height - 90.0) / spacing).clamp(3.0, MAX_NODES as f32) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Activation;
    use crate::train::presets;
    use crate::ui::views::heat::test_fonts::with_fonts;

    /// The texts of `role`, in order.
    fn texts_of(layout: &GraphLayout, role: TextRole) -> Vec<&str> {
        layout
            .texts
            .iter()
            .filter(|t| t.role == role)
            .map(|t| t.text.as_str())
            .collect()
    }

    /// Two rects share some area (touching edges do not count).
    fn overlap(a: Rect, b: Rect) -> bool {
        a.intersect(b).is_positive()
    }

    fn dense(units: usize) -> LayerSpec {
        LayerSpec::Dense {
            units,
            activation: Activation::Relu,
        }
    }

    fn name(outputs: usize, unit: usize) -> String {
        if outputs == 10 {
            format!("digit {unit}")
        } else {
            format!("class {unit}")
        }
    }

    /// Every preset, a 20-layer network and five layers of 4,096 units: (input, layers).
    fn networks() -> Vec<(String, Shape, Vec<LayerSpec>)> {
        let mut networks: Vec<(String, Shape, Vec<LayerSpec>)> = presets()
            .into_iter()
            .map(|p| {
                let data = p.data.load().expect("the preset's data loads");
                (p.name.to_string(), data.input_shape, p.layers)
            })
            .collect();
        let mut deep: Vec<LayerSpec> = (0..19).map(|_| dense(8)).collect();
        deep.push(dense(2));
        networks.push(("20 layers".into(), Shape::flat(2), deep));
        // a folder of 26 classes (letters): more outputs than a column shows
        networks.push((
            "26 classes".into(),
            Shape::image(28, 28, 1),
            vec![LayerSpec::Flatten, dense(64), dense(26)],
        ));
        let mut wide = vec![LayerSpec::Flatten];
        wide.extend((0..5).map(|_| dense(4096)));
        wide.push(dense(10));
        networks.push(("5 x 4096".into(), Shape::image(28, 28, 1), wide));
        networks
    }

    /// The rect the view gives the layout in a tile: the content width when it scrolls.
    fn graph_rect(tile: Vec2, columns: &[Column], measure: Measure<'_>) -> Rect {
        let inner = tile - Vec2::new(12.0, 36.0);
        let width = inner.x.max(GraphLayout::min_width(columns, measure));
        Rect::from_min_size(Pos2::new(7.0, 31.0), Vec2::new(width, inner.y))
    }

    const TILES: [[f32; 2]; 7] = [
        [256.0, 180.0],
        [320.0, 240.0],
        [480.0, 300.0],
        [640.0, 420.0],
        [960.0, 540.0],
        [1280.0, 720.0],
        [1600.0, 900.0],
    ];

    #[test]
    fn no_two_labels_overlap_and_all_lie_inside_for_every_network_and_tile() {
        with_fonts(|measure| {
            for (name_of, input, specs) in networks() {
                for [w, h] in TILES {
                    for thumbnails in [false, true] {
                        let tile = Vec2::new(w, h);
                        let most = node_budget(tile.y - 36.0, thumbnails);
                        let columns = columns(input, &specs, &[], most, &name);
                        let rect = graph_rect(tile, &columns, measure);
                        let layout = GraphLayout::new(rect, &columns, thumbnails, measure);
                        let texts = &layout.texts;
                        let at = format!("{name_of} in {w}x{h}");
                        for (i, a) in texts.iter().enumerate() {
                            assert!(rect.contains_rect(a.rect), "{at}: {a:?} outside {rect:?}");
                            for b in &texts[i + 1..] {
                                assert!(!overlap(a.rect, b.rect), "{at}: {a:?} over {b:?}");
                            }
                            // and no label covers a node or a block
                            for (c, nodes) in layout.nodes.iter().enumerate() {
                                for &(_, p) in nodes {
                                    let node =
                                        Rect::from_center_size(p, Vec2::splat(2.0 * layout.radius));
                                    assert!(!overlap(a.rect, node), "{at}: {a:?} on a node");
                                }
                                let block = matches!(columns[c].kind, ColumnKind::Block { .. });
                                let own = matches!(a.role, TextRole::BlockShape(k) | TextRole::BlockShare(k) | TextRole::BlockActive(k) if k == c);
                                if block && !own {
                                    assert!(
                                        !overlap(a.rect, layout.block_rect(c)),
                                        "{at}: {a:?} on block {c}"
                                    );
                                }
                            }
                        }
                        for column in &layout.nodes {
                            for pair in column.windows(2) {
                                let gap = pair[1].1.y - pair[0].1.y;
                                assert!(gap >= 2.0 * layout.radius, "{at}: nodes overlap");
                            }
                        }
                        for pair in layout.column_x.windows(2) {
                            assert!(pair[1] - pair[0] >= 2.0 * layout.radius + 4.0);
                            assert!(pair[1] - pair[0] >= layout.block_size.x + 4.0);
                        }
                    }
                }
            }
        });
    }

    #[test]
    fn a_title_that_fits_is_written_whole_and_one_that_does_not_is_shortened() {
        with_fonts(|measure| {
            let specs = [
                LayerSpec::Conv2d {
                    filters: 32,
                    kernel: 3,
                    padding: crate::nn::Padding::Valid,
                    activation: Activation::Relu,
                },
                LayerSpec::Flatten,
                dense(10),
            ];
            let columns = columns(Shape::image(28, 28, 1), &specs, &[], 16, &name);
            let wide = Rect::from_min_size(Pos2::ZERO, Vec2::new(900.0, 400.0));
            let layout = GraphLayout::new(wide, &columns, false, measure);
            assert_eq!(
                texts_of(&layout, TextRole::Title(1)),
                ["conv 32 3x3", "relu"]
            );
            assert_eq!(texts_of(&layout, TextRole::BlockShape(1)), ["26x26x32"]);
            let narrow = Rect::from_min_size(Pos2::ZERO, Vec2::new(150.0, 400.0));
            let layout = GraphLayout::new(narrow, &columns, false, measure);
            let title = texts_of(&layout, TextRole::Title(1));
            assert!(title == ["c32"] || title.is_empty(), "{title:?}");
        });
    }

    #[test]
    fn hidden_units_are_counted_under_their_column() {
        with_fonts(|measure| {
            let columns = columns(Shape::flat(2), &[dense(128), dense(3)], &[], 16, &name);
            let rect = Rect::from_min_size(Pos2::ZERO, Vec2::new(700.0, 500.0));
            let layout = GraphLayout::new(rect, &columns, false, measure);
            let more: Vec<&PlacedText> = layout
                .texts
                .iter()
                .filter(|t| matches!(t.role, TextRole::More(_)))
                .collect();
            assert_eq!(more.len(), 1);
            assert_eq!(more[0].text, "+112 more");
            assert_eq!(more[0].role, TextRole::More(1));
            let outputs: Vec<&str> = layout
                .texts
                .iter()
                .filter(|t| matches!(t.role, TextRole::Output(_)))
                .map(|t| t.text.as_str())
                .collect();
            assert_eq!(outputs, ["class 0", "class 1", "class 2"]);
        });
    }

    fn mlp() -> Vec<Column> {
        columns(Shape::flat(2), &[dense(16), dense(10)], &[], 16, &name)
    }

    #[test]
    fn nodes_fit_the_rect_in_column_order_without_overlapping() {
        with_fonts(|measure| {
            for rect in [
                Rect::from_min_size(Pos2::new(10.0, 20.0), Vec2::new(700.0, 500.0)),
                Rect::from_min_size(Pos2::ZERO, Vec2::new(300.0, 200.0)),
            ] {
                let layout = GraphLayout::new(rect, &mlp(), false, measure);
                assert!(layout.column_x.windows(2).all(|x| x[0] < x[1]));
                for (c, column) in layout.nodes.iter().enumerate() {
                    for &(_, at) in column {
                        assert!(rect.contains(at), "{at:?} outside {rect:?}");
                        assert_eq!(at.x, layout.column_x[c]);
                    }
                }
            }
        });
    }

    #[test]
    fn the_edge_under_the_pointer_is_found_along_its_drawn_segment() {
        with_fonts(|measure| {
            let rect = Rect::from_min_size(Pos2::ZERO, Vec2::new(700.0, 500.0));
            let layout = GraphLayout::new(rect, &mlp(), false, measure);
            let (unit, at) = layout.nodes[1][5];
            assert_eq!(layout.node_at(at), Some((1, unit)));
            // a point a quarter along the drawn edge from input 1 to hidden unit 5
            let (a, b) = layout.edge(layout.nodes[0][1].1, at);
            assert!((a.distance(layout.nodes[0][1].1) - layout.radius).abs() < 1e-3);
            assert!((b.distance(at) - layout.radius).abs() < 1e-3);
            assert_eq!(layout.edge_at(a + (b - a) * 0.25), Some((1, 1, unit)));
            assert_eq!(layout.edge_at(Pos2::new(1.0, 1.0)), None);
        });
    }
}
