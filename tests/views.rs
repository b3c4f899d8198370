//! The views inside the network, driven headless through egui_kittest with real pointer events:
//! what the pointer reads must be the model's own numbers, the confusion matrix must account for
//! every test sample, and a digit drawn on the canvas must reach the network.

use backprop_lab::nn::{Loss, Network, predicted_class};
use backprop_lab::train::Phase;
use backprop_lab::train::protocol::{Probe, Snapshot};
use backprop_lab::ui::views::{
    BoundaryView, ConfusionView, DrawView, GraphReadout, GraphView, Layout, PlacedNode, Quantity,
    StepThroughView, WeightsView, num, plain_text,
};
use backprop_lab::ui::{BackpropLab, Launch};
use egui::{Event, Modifiers, PointerButton, Pos2, Rect};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::sync::Arc;

/// The window's size in points.
const WINDOW: [f32; 2] = [1440.0, 900.0];

#[path = "common/app_harness.rs"]
mod app_harness;
use app_harness::{App, step_until};

/// The app on `preset` with only `views` on.
fn open(preset: &str, views: &[&str]) -> App {
    let views = views.to_vec();
    let preset = preset.to_string();
    let mut harness = Harness::builder()
        .with_size(WINDOW)
        .build_eframe(move |cc| {
            let mut app = BackpropLab::new(
                cc,
                Launch {
                    preset: Some(preset),
                    ..Launch::default()
                },
            );
            app.show_views(&views);
            app
        });
    step_until(&mut harness, "the trainer is ready", |app| {
        app.run_view().info.is_some() && snapshot(app).is_some()
    });
    harness
}

fn snapshot(app: &BackpropLab) -> Option<Arc<Snapshot>> {
    app.worker().and_then(|w| w.snapshot())
}

/// Steps `n` batches and waits for the snapshot of the last one.
fn train_steps(harness: &mut App, n: u64) {
    // the snapshot, not the status line: the worker fills the snapshot slot before it sends the
    // status, so the status may still be one step behind here
    let target = snapshot(harness.state()).map_or(0, |s| s.step) + n;
    for _ in 0..n {
        harness.get_by_label("Step").click();
        harness.step();
    }
    step_until(harness, "the snapshot catches up", |app| {
        snapshot(app).is_some_and(|s| s.step == target)
    });
}

fn hover(harness: &mut App, pos: Pos2) {
    harness.input_mut().events.push(Event::PointerMoved(pos));
    harness.step();
    harness.step();
}

fn click(harness: &mut App, pos: Pos2) {
    hover(harness, pos);
    for pressed in [true, false] {
        harness.input_mut().events.push(Event::PointerButton {
            pos,
            button: PointerButton::Primary,
            pressed,
            modifiers: Modifiers::default(),
        });
        harness.step();
    }
}

#[test]
fn weight_heatmap_hover_reads_the_weight_gradient_and_update_under_the_pointer() {
    let mut harness = open("mnist-mlp", &["weights"]);
    train_steps(&mut harness, 1);
    let before = snapshot(harness.state()).expect("snapshot");
    train_steps(&mut harness, 1);
    let rect = harness
        .state()
        .views()
        .get::<WeightsView>()
        .picture_rect
        .expect("the matrix is drawn");
    // the first dense layer: 128 units x 784 inputs; point at unit 40, input 300
    let (units, inputs) = (128.0, 784.0);
    let at = Pos2::new(
        rect.left() + rect.width() * (300.5 / inputs),
        rect.top() + rect.height() * (40.5 / units),
    );
    let check = |harness: &mut App, quantity: Quantity| {
        hover(harness, at);
        let app = harness.state();
        let now = snapshot(app).expect("snapshot");
        let readout = app
            .views()
            .get::<WeightsView>()
            .readout
            .clone()
            .expect("a readout under the pointer");
        assert_eq!(
            (readout.layer, readout.row, readout.column),
            (1, 40, Some(300))
        );
        let layer = &now.layers[1];
        let expected = match quantity {
            Quantity::Weights => layer.weight.as_ref().unwrap()[[40, 300]],
            Quantity::Gradients => layer.grad_weight.as_ref().unwrap()[[40, 300]],
            Quantity::Update => layer.update_weight.as_ref().unwrap()[[40, 300]],
            other => panic!("{other:?} is only shown while stepping through"),
        };
        assert_eq!(readout.value, expected, "{quantity:?}");
        readout
    };
    let readout = check(&mut harness, Quantity::Weights);
    assert!(
        readout.text.starts_with("unit 40, input 300"),
        "{}",
        readout.text
    );
    harness.get_by_label("dL/dW").click();
    harness.step();
    check(&mut harness, Quantity::Gradients);
    harness.get_by_label("Delta W").click();
    harness.step();
    let update = check(&mut harness, Quantity::Update);
    // the last update is what step 2 changed: W after it minus W before it
    let now = snapshot(harness.state()).expect("snapshot");
    let w = |s: &Snapshot| s.layers[1].weight.as_ref().unwrap()[[40, 300]];
    assert_eq!(update.value, w(&now) - w(&before));
    assert_eq!(now.update_step, Some(2));
}

/// The number of tiles per row of a tile picture drawn in `rect`: the view draws `tiles` tiles of
/// `tile` pixels with a one-pixel gap between them, fitted into `rect` with its aspect kept, and
/// that aspect grows strictly with the number of columns, so only one count fits the rect.
fn tile_columns(rect: Rect, tiles: usize, tile: [usize; 2]) -> usize {
    let misfit = |columns: usize| {
        let rows = tiles.div_ceil(columns);
        let width = (columns * (tile[0] + 1) - 1) as f32;
        let height = (rows * (tile[1] + 1) - 1) as f32;
        (width / height / rect.aspect_ratio()).ln().abs()
    };
    (1..=tiles)
        .min_by(|&a, &b| misfit(a).total_cmp(&misfit(b)))
        .expect("at least one tile")
}

#[test]
fn first_layer_tiles_read_a_units_weight_for_a_pixel() {
    let mut harness = open("mnist-mlp", &["weights"]);
    harness.get_by_label("Tiles").click();
    harness.step();
    harness.step();
    let rect = harness
        .state()
        .views()
        .get::<WeightsView>()
        .picture_rect
        .expect("tiles drawn");
    let info = harness.state().run_view().info.clone().expect("info");
    let shape = info.input_shape;
    assert_eq!((shape.width, shape.height, shape.channels), (28, 28, 1));
    let weight = snapshot(harness.state()).unwrap().layers[1]
        .weight
        .clone()
        .unwrap();
    let units = weight.nrows();
    assert_eq!(units, 128);
    // one 28 x 28 tile per unit, in rows of `columns`, one picture pixel between tiles
    let columns = tile_columns(rect, units, [28, 28]);
    let rows = units.div_ceil(columns);
    assert!(columns > 3 && rows > 2, "{columns} x {rows} tiles");
    let picture = egui::vec2((columns * 29 - 1) as f32, (rows * 29 - 1) as f32);
    // the middle of picture pixel (px, py) on the screen
    let at = |px: usize, py: usize| {
        rect.min + egui::vec2(px as f32 + 0.5, py as f32 + 0.5) * rect.size() / picture
    };
    let readout_at = |harness: &mut App, pointer: Pos2| {
        hover(harness, pointer);
        let weights = &harness.state().views().get::<WeightsView>();
        assert_eq!(
            weights.picture_rect,
            Some(rect),
            "the tiles stay where they are"
        );
        weights.readout.clone()
    };
    // tiles off the first row and column and pixels off the diagonal, so that a tile or pixel
    // read transposed, or a gap miscounted, is another weight; the last pixel of the last tile
    for (unit, x, y) in [
        (columns + 3, 20, 7),
        (2 * columns + 1, 4, 23),
        (units - 1, 27, 27),
    ] {
        let pointer = at((unit % columns) * 29 + x, (unit / columns) * 29 + y);
        let readout = readout_at(&mut harness, pointer).expect("a readout");
        let pixel = y * 28 + x;
        assert_eq!(
            (readout.layer, readout.row, readout.column),
            (1, unit, Some(pixel)),
            "the pointer is over unit {unit}'s tile at pixel ({x}, {y})"
        );
        assert_eq!(readout.value, weight[[unit, pixel]]);
        assert!(
            readout
                .text
                .starts_with(&format!("unit {unit}, pixel ({x}, {y})")),
            "{}",
            readout.text
        );
    }
    // the gaps between tiles are nobody's pixels: right of tile `columns`, below tile 1
    for pointer in [at(28, 29 + 10), at(29 + 10, 28)] {
        let readout = readout_at(&mut harness, pointer);
        assert_eq!(readout, None, "a gap between tiles at {pointer:?}");
    }
}

/// Distance from `p` to the segment `a`-`b`.
fn distance_to_segment(p: Pos2, (a, b): (Pos2, Pos2)) -> f32 {
    let ab = b - a;
    let t = ((p - a).dot(ab) / ab.length_sq()).clamp(0.0, 1.0);
    (a + ab * t).distance(p)
}

/// The edge drawn from node `from` to node `to`: from the right side of one to the left side of
/// the other.
fn edge_segment(from: &PlacedNode, to: &PlacedNode) -> (Pos2, Pos2) {
    (
        from.center + egui::vec2(from.radius, 0.0),
        to.center - egui::vec2(to.radius, 0.0),
    )
}

/// A point on the edge from `from` to `to`, nearer `from` (edges of unit pairs with the same
/// sum cross in their middles, and others at simple fractions of their length), at least 2
/// points from every other edge between the two columns and well away from every node: only
/// that edge is under the pointer there. Near `from` the edge the view draws (between the
/// nodes' sides) is several points from the line between the nodes' centres.
fn point_on_edge(nodes: &[PlacedNode], from: PlacedNode, to: PlacedNode) -> Pos2 {
    let (a, b) = edge_segment(&from, &to);
    let mut others = Vec::new();
    for f in nodes.iter().filter(|n| n.layer == from.layer) {
        for t in nodes.iter().filter(|n| n.layer == to.layer) {
            if (f.unit, t.unit) != (from.unit, to.unit) {
                others.push(edge_segment(f, t));
            }
        }
    }
    assert!(!others.is_empty(), "the columns have other edges");
    [0.17f32, 0.22, 0.13, 0.27, 0.31, 0.36]
        .into_iter()
        .map(|s| a + (b - a) * s)
        .find(|&p| {
            others
                .iter()
                .all(|&edge| distance_to_segment(p, edge) > 2.0)
                && nodes.iter().all(|n| n.center.distance(p) > n.radius + 4.0)
        })
        .expect("a point on the edge clear of the other edges")
}

#[test]
fn graph_hover_shows_a_nodes_activation_and_bias_and_an_edges_weight() {
    let mut harness = open("circle", &["network"]);
    train_steps(&mut harness, 3);
    let node = harness
        .state()
        .views()
        .get::<GraphView>()
        .node(Some(0), 3)
        .expect("unit 3 of the first hidden layer is drawn");
    hover(&mut harness, node.center);
    let now = snapshot(harness.state()).expect("snapshot");
    match harness.state().views().get::<GraphView>().readout.clone() {
        Some(GraphReadout::Node {
            layer,
            unit,
            activation,
            pre_activation,
            bias,
        }) => {
            assert_eq!((layer, unit), (Some(0), 3));
            assert_eq!(activation, now.layers[0].probe_activation[3]);
            let z = pre_activation.expect("a dense unit has a pre-activation");
            assert_eq!(z, now.layers[0].probe_pre_activation.as_ref().unwrap()[3]);
            // tanh: the activation is f(z)
            assert!((activation - z.tanh()).abs() < 1e-6);
            assert_eq!(bias, Some(now.layers[0].bias.as_ref().unwrap()[3]));
        }
        other => panic!("expected a node readout, found {other:?}"),
    }
    // circle is 2 inputs -> 8 tanh (layer 0) -> 8 tanh (layer 1) -> 1 sigmoid (layer 2); an
    // edge into layer l's unit `to` from the previous column's unit `from` is W_l[to, from]
    let edges = [
        ((Some(0), 3), (Some(1), 5), 1),
        ((None, 1), (Some(0), 6), 0),
        ((Some(1), 2), (Some(2), 0), 2),
    ];
    for ((from_layer, from), (to_layer, to), layer) in edges {
        let graph = &harness.state().views().get::<GraphView>();
        let nodes = graph.nodes.clone();
        let a = graph.node(from_layer, from).expect("the edge's first node");
        let b = graph.node(to_layer, to).expect("the edge's second node");
        hover(&mut harness, point_on_edge(&nodes, a, b));
        let weight = now.layers[layer].weight.clone().expect("a dense layer");
        if to < weight.ncols() && from < weight.nrows() {
            assert_ne!(weight[[to, from]], weight[[from, to]], "W is not symmetric");
        }
        match harness.state().views().get::<GraphView>().readout.clone() {
            Some(GraphReadout::Edge {
                layer: l,
                from: i,
                to: j,
                weight: w,
            }) => {
                assert_eq!(
                    (l, i, j),
                    (layer, from, to),
                    "the pointer is on the edge from {from_layer:?}/{from} to {to_layer:?}/{to}"
                );
                assert_eq!(w, weight[[to, from]]);
            }
            other => panic!("expected an edge readout, found {other:?}"),
        }
    }
    // clicking a node selects it (its edges highlighted); clicking it again clears it
    click(&mut harness, node.center);
    assert_eq!(
        harness.state().views().get::<GraphView>().selected,
        Some((Some(0), 3))
    );
    click(&mut harness, node.center);
    assert_eq!(harness.state().views().get::<GraphView>().selected, None);
}

#[test]
fn large_layers_show_a_subset_and_say_how_many_more() {
    let mut harness = open("mnist-mlp", &["network"]);
    harness.step();
    let shown = harness
        .state()
        .views()
        .get::<GraphView>()
        .nodes
        .iter()
        .filter(|n| n.layer == Some(1))
        .count();
    assert_eq!(shown, 16, "16 of the 128 hidden units");
    harness.get_by_label_contains("+112 more");
    let outputs = harness
        .state()
        .views()
        .get::<GraphView>()
        .nodes
        .iter()
        .filter(|n| n.layer == Some(2))
        .count();
    assert_eq!(outputs, 10);
}

#[test]
fn confusion_matrix_sums_to_the_test_set_and_a_cell_lists_exactly_its_examples() {
    let mut harness = open("mnist-mlp", &["confusion"]);
    train_steps(&mut harness, 20);
    step_until(&mut harness, "an evaluation after training", |app| {
        snapshot(app)
            .and_then(|s| s.test_outputs.clone())
            .is_some_and(|o| o.step == 20)
    });
    harness.step();
    let app = harness.state();
    let info = app.run_view().info.clone().expect("info");
    let counts = app.views().get::<ConfusionView>().counts.clone();
    assert_eq!(counts.len(), 10);
    assert_eq!(counts.iter().flatten().sum::<usize>(), info.test_samples);
    assert_eq!(info.test_samples, 1500);
    // the cell with the most mistakes
    let (t, p) = (0..10)
        .flat_map(|t| (0..10).map(move |p| (t, p)))
        .filter(|(t, p)| t != p)
        .max_by_key(|&(t, p)| counts[t][p])
        .expect("cells");
    assert!(
        counts[t][p] > 0,
        "20 batches in, the model still makes mistakes"
    );
    let grid = app.views().get::<ConfusionView>().grid_rect.expect("drawn");
    let cell = grid.width() / 10.0;
    click(
        &mut harness,
        grid.min + egui::vec2(cell * (p as f32 + 0.5), cell * (t as f32 + 0.5)),
    );
    let app = harness.state();
    assert_eq!(app.views().get::<ConfusionView>().selected, Some((t, p)));
    let examples = app.views().get::<ConfusionView>().examples(&info);
    assert_eq!(examples.len(), counts[t][p]);
    let outputs = snapshot(app).unwrap().test_outputs.clone().unwrap();
    let expected: Vec<usize> = (0..info.test_samples)
        .filter(|&i| info.test.labels[i] == t && predicted_class(outputs.outputs.row(i)) == p)
        .collect();
    assert_eq!(examples, expected);
    // the first of them is on screen as a card, the matrix kept at its size
    harness.step();
    harness.get_by_label(&format!("test sample {}", examples[0]));
    let kept = harness
        .state()
        .views()
        .get::<ConfusionView>()
        .grid_rect
        .expect("drawn");
    assert_eq!(
        kept.size(),
        grid.size(),
        "the examples go beside the matrix"
    );
}

#[test]
fn clicking_a_gallery_prediction_makes_it_the_probe() {
    let mut harness = open("mnist-mlp", &["gallery", "network"]);
    step_until(&mut harness, "test outputs", |app| {
        snapshot(app).is_some_and(|s| s.test_outputs.is_some())
    });
    harness.step();
    harness.get_by_label("test sample 5").click();
    step_until(&mut harness, "the probe is test sample 5", |app| {
        snapshot(app).is_some_and(|s| s.probe.test_index == Some(5))
    });
    let app = harness.state();
    let now = snapshot(app).unwrap();
    let info = app.run_view().info.clone().unwrap();
    assert_eq!(now.probe.input, info.test.inputs.row(5));
    // the probe's output layer activation is the model's prediction for that image
    let specs = app.active_config().layers.clone();
    let mut network = Network::with_params(
        info.input_shape,
        &specs,
        now.layers
            .iter()
            .filter_map(|l| Some((l.weight.clone()?, l.bias.clone()?))),
    )
    .unwrap();
    let predicted = network
        .predict(info.test.inputs.slice(ndarray::s![5..6, ..]))
        .unwrap();
    let probe_output = &now.layers.last().unwrap().probe_activation;
    for (a, b) in predicted.row(0).iter().zip(probe_output) {
        assert!((a - b).abs() < 1e-6);
    }
}

/// Whether the decision boundary reads the plane with the pointer at `at`.
fn reads_the_plane(harness: &mut App, at: Pos2) -> bool {
    hover(harness, at);
    harness
        .state()
        .views()
        .get::<BoundaryView>()
        .readout
        .is_some()
}

/// The edge of the plot on the line from `inside` to `outside`, by bisection: the view reads the
/// plane wherever the pointer is over the plot and nowhere else.
fn plot_edge(harness: &mut App, inside: Pos2, outside: Pos2) -> Pos2 {
    assert!(
        !reads_the_plane(harness, outside),
        "{outside:?} is off the plot"
    );
    let (mut a, mut b) = (inside, outside);
    // 16 halvings of at most the window: well under a tenth of a point
    for _ in 0..16 {
        let middle = a + (b - a) * 0.5;
        if reads_the_plane(harness, middle) {
            a = middle;
        } else {
            b = middle;
        }
    }
    a + (b - a) * 0.5
}

#[test]
fn decision_boundary_hover_reads_the_models_output_at_that_point() {
    let mut harness = open("spiral", &["boundary"]);
    train_steps(&mut harness, 5);
    let centre = Pos2::new(330.0 + 560.0, 480.0);
    // find a point inside the plot: sweep until the view reads something
    let inside = [0.0, -60.0, 60.0, -120.0, 120.0]
        .into_iter()
        .map(|dx| centre + egui::vec2(dx, 0.0))
        .find(|&at| reads_the_plane(&mut harness, at))
        .expect("the pointer is over the plane");
    // the plot's edges, from that point towards the window's edges
    let [width, height] = WINDOW;
    let left = plot_edge(&mut harness, inside, Pos2::new(1.0, inside.y)).x;
    let right = plot_edge(&mut harness, inside, Pos2::new(width - 1.0, inside.y)).x;
    let top = plot_edge(&mut harness, inside, Pos2::new(inside.x, 1.0)).y;
    let bottom = plot_edge(&mut harness, inside, Pos2::new(inside.x, height - 1.0)).y;
    let plot = Rect::from_min_max(Pos2::new(left, top), Pos2::new(right, bottom));
    assert!(
        plot.width() > 200.0 && (plot.width() - plot.height()).abs() < 1.0,
        "the plane is a square: {plot:?}"
    );

    let app = harness.state();
    let now = snapshot(app).unwrap();
    let info = app.run_view().info.clone().unwrap();
    let mut network = Network::with_params(
        info.input_shape,
        &app.active_config().layers,
        now.layers
            .iter()
            .filter_map(|l| Some((l.weight.clone()?, l.bias.clone()?))),
    )
    .unwrap();
    let plane = now.plane.clone().unwrap();
    let (x, y) = (plane.x, plane.y);
    let last = (plane.resolution - 1) as f32;
    let cell = [(x.1 - x.0) / last, (y.1 - y.0) / last];
    // points near the top left, bottom right, top right and bottom left, none on a diagonal or
    // a middle line: a flipped or swapped axis puts the pointer over another point of the plane
    for (across, down) in [(0.15, 0.2), (0.85, 0.8), (0.7, 0.25), (0.3, 0.75)] {
        // the pointer over a grid point, so that the nearest grid point is clear
        let pointer = plot.min
            + egui::vec2(
                (across * last).round() / last * plot.width(),
                (down * last).round() / last * plot.height(),
            );
        hover(&mut harness, pointer);
        let readout = harness
            .state()
            .views()
            .get::<BoundaryView>()
            .readout
            .clone()
            .expect("the pointer is over the plane");
        // x grows to the right, y upwards: the top of the plot is the largest y
        let point = [
            x.0 + (pointer.x - plot.left()) / plot.width() * (x.1 - x.0),
            y.1 - (pointer.y - plot.top()) / plot.height() * (y.1 - y.0),
        ];
        for axis in 0..2 {
            assert!(
                (readout.point[axis] - point[axis]).abs() < 0.05 * cell[axis],
                "pointer at {pointer:?}: the view reads {:?}, the plot's mapping gives {point:?}",
                readout.point
            );
        }
        // the grid point nearest to it (column from the left, row from the top) ...
        let col = ((point[0] - x.0) / cell[0]).round();
        let row = ((y.1 - point[1]) / cell[1]).round();
        let grid = [
            x.0 + (x.1 - x.0) * (col / last),
            y.1 - (y.1 - y.0) * (row / last),
        ];
        for axis in 0..2 {
            assert!(
                (readout.grid[axis] - grid[axis]).abs() < 1e-3 * cell[axis],
                "pointer at {pointer:?}: the view's grid point {:?}, the nearest is {grid:?}",
                readout.grid
            );
        }
        // ... and the model's output there
        let output = network.predict(ndarray::arr2(&[grid]).view()).unwrap();
        assert_eq!(readout.outputs.len(), 1);
        assert!(
            (output[[0, 0]] - readout.outputs[0]).abs() < 1e-5,
            "at {grid:?} the view reads {:?}, the model gives {}",
            readout.outputs,
            output[[0, 0]]
        );
    }
}

/// Drags the pointer through `points` (canvas units) with the button held.
fn draw_stroke(harness: &mut App, canvas: egui::Rect, points: &[(f32, f32)]) {
    let at = |(x, y): (f32, f32)| canvas.min + egui::vec2(x, y) * canvas.width();
    let first = at(points[0]);
    hover(harness, first);
    harness.input_mut().events.push(Event::PointerButton {
        pos: first,
        button: PointerButton::Primary,
        pressed: true,
        modifiers: Modifiers::default(),
    });
    harness.step();
    for &point in &points[1..] {
        harness
            .input_mut()
            .events
            .push(Event::PointerMoved(at(point)));
        harness.step();
    }
    let last = at(*points.last().unwrap());
    harness.input_mut().events.push(Event::PointerButton {
        pos: last,
        button: PointerButton::Primary,
        pressed: false,
        modifiers: Modifiers::default(),
    });
    harness.step();
}

#[test]
fn drawing_on_the_canvas_makes_the_input_and_the_prediction() {
    let mut harness = open("mnist-mlp", &["draw", "network"]);
    harness.step();
    let canvas = drawing(&harness).canvas_rect.expect("the canvas is drawn");
    // a "7": a bar across the top, then down to the bottom left
    let seven: Vec<(f32, f32)> = (0..=10)
        .map(|i| (0.25 + 0.05 * i as f32, 0.2))
        .chain((1..=12).map(|i| (0.75 - 0.03 * i as f32, 0.2 + 0.055 * i as f32)))
        .collect();
    draw_stroke(&mut harness, canvas, &seven);
    step_until(&mut harness, "a prediction", |app| {
        drawing_of(app).probabilities.is_some()
    });
    let draw = &drawing(&harness);
    assert_eq!(draw.strokes.len(), 1);
    let input = draw.input.clone().expect("the 28x28 input");
    assert_eq!(input.len(), 784);
    // the pipeline: the ink fills a 20-pixel box and its borders stay empty
    let ink_rows: Vec<usize> = (0..28)
        .filter(|y| (0..28).any(|x| input[y * 28 + x] > 0.15))
        .collect();
    assert!(ink_rows.len() >= 18 && ink_rows.len() <= 21, "{ink_rows:?}");
    assert!((0..28).all(|x| input[x] == 0.0 && input[27 * 28 + x] == 0.0));
    let probabilities = draw.probabilities.clone().unwrap();
    assert_eq!(probabilities.len(), 10);
    assert!((probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-4);

    // a few batches later the bars are the trained network's: the snapshot's weights run on the
    // shown input by the test give the same probabilities
    let trained = snapshot(harness.state()).unwrap().step + 3;
    train_steps(&mut harness, 3);
    // one more frame: the view classifies with the snapshot of the last step
    harness.step();
    let app = harness.state();
    let now = snapshot(app).unwrap();
    assert_eq!(now.step, trained);
    let info = app.run_view().info.clone().unwrap();
    let mut network = Network::with_params(
        info.input_shape,
        &app.active_config().layers,
        now.layers
            .iter()
            .filter_map(|l| Some((l.weight.clone()?, l.bias.clone()?))),
    )
    .unwrap();
    assert_eq!(drawing_of(app).input.as_ref(), Some(&input));
    let x = ndarray::Array2::from_shape_vec((1, input.len()), input.clone()).unwrap();
    let expected = network.predict(x.view()).unwrap().row(0).to_vec();
    let shown = app
        .views()
        .get::<DrawView>()
        .probabilities
        .clone()
        .expect("probabilities");
    assert_eq!(shown.len(), expected.len());
    for (digit, (a, b)) in shown.iter().zip(&expected).enumerate() {
        assert!(
            (a - b).abs() < 1e-6,
            "digit {digit}: the view shows {a}, the trained network gives {b}"
        );
    }
    // the headline is the most probable digit with its probability
    let best = predicted_class(ndarray::ArrayView1::from(&expected[..]));
    harness.get_by_label(&format!("{best} ({:.0}%)", expected[best] * 100.0));

    // a second stroke, then Undo takes it away again
    draw_stroke(&mut harness, canvas, &[(0.4, 0.5), (0.6, 0.5)]);
    assert_eq!(drawing(&harness).strokes.len(), 2);
    harness.get_by_label("Undo").click();
    harness.step();
    assert_eq!(drawing(&harness).strokes.len(), 1);
    assert_eq!(drawing(&harness).input.clone().unwrap(), input);

    // the drawing becomes the probe
    harness.get_by_label("Use as probe").click();
    step_until(&mut harness, "the drawing is the probe", |app| {
        snapshot(app).is_some_and(|s| s.probe.name == "your drawing")
    });
    let now = snapshot(harness.state()).unwrap();
    assert_eq!(now.probe.input.to_vec(), input);
    assert_eq!(now.probe.test_index, None);

    harness.get_by_label("Clear").click();
    harness.step();
    assert!(drawing(&harness).input.is_none());
    assert!(drawing(&harness).probabilities.is_none());
}

#[test]
fn drawing_says_why_it_is_unavailable_for_a_2d_model() {
    let mut harness = open("spiral", &["draw"]);
    harness.step();
    harness.get_by_label_contains("Drawing needs a network that takes a 28x28 image");
}

#[test]
fn a_corrupt_image_says_why_and_keeps_the_drawing() {
    let mut harness = open("mnist-mlp", &["draw"]);
    harness.step();
    let canvas = drawing(&harness).canvas_rect.expect("the canvas is drawn");
    draw_stroke(&mut harness, canvas, &[(0.5, 0.2), (0.5, 0.5), (0.5, 0.8)]);
    let input = drawing(&harness).input.clone().expect("a drawing");
    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("digit.png");
    std::fs::write(&corrupt, b"\x89PNG\r\n\x1a\n not really a picture").unwrap();
    harness
        .state_mut()
        .views_mut()
        .get_mut::<DrawView>()
        .open(corrupt);
    harness.step();
    let message = drawing(&harness).message.clone().expect("an error message");
    assert!(message.contains("digit.png"), "{message}");
    harness.get_by_label_contains("digit.png");
    // the drawing and its input are still there
    assert_eq!(drawing(&harness).strokes.len(), 1);
    assert_eq!(drawing(&harness).input.clone().unwrap(), input);
}

#[test]
fn a_probe_of_the_wrong_size_is_refused_and_the_old_one_stays() {
    use backprop_lab::train::protocol::Command;
    use backprop_lab::ui::Alert;
    let mut harness = open("mnist-mlp", &["network"]);
    harness.state_mut().command(Command::SetProbe(Probe {
        input: ndarray::Array1::zeros(3),
        test_index: None,
        label: None,
        name: "a wrong-sized input".into(),
    }));
    step_until(&mut harness, "the refusal", |app| {
        matches!(app.run_view().alert, Some(Alert::Refused(_)))
    });
    match harness.state().run_view().alert.clone() {
        Some(Alert::Refused(message)) => assert!(message.contains("784"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(snapshot(harness.state()).unwrap().probe.test_index, Some(0));
}

/// The step-through view's text as one string.
fn step_text(app: &BackpropLab) -> String {
    plain_text(&app.views().get::<StepThroughView>().text)
}

fn phase_title(app: &BackpropLab) -> String {
    let layers = app.run_view().trace.as_ref().expect("a trace").layers.len();
    app.views().step.current(layers).title()
}

#[test]
fn stepping_through_xor_walks_every_phase_with_the_numbers_and_applies_one_step() {
    let mut harness = open("xor", &["step", "network"]);
    let start = snapshot(harness.state()).unwrap().step;
    harness.key_press(egui::Key::T);
    step_until(&mut harness, "the trace", |app| {
        app.run_view().trace.is_some()
    });
    harness.run_steps(2);
    let trace = harness.state().run_view().trace.clone().unwrap();
    assert_eq!(trace.step, start + 1);
    let expected: Vec<String> = Phase::all(2).iter().map(|p| p.title()).collect();
    assert_eq!(
        expected,
        [
            "Input",
            "Forward, layer 0",
            "Forward, layer 1",
            "Loss",
            "Output gradient",
            "Backward, layer 1",
            "Backward, layer 0",
            "Update, layer 0",
            "Update, layer 1",
            "Check"
        ]
    );
    // Right walks the phases in order
    let mut texts = Vec::new();
    for (k, title) in expected.iter().enumerate() {
        assert_eq!(&phase_title(harness.state()), title, "phase {k}");
        texts.push(step_text(harness.state()));
        if title == "Loss" {
            let shown = format!("L = {}", num(trace.loss));
            assert!(texts[k].contains(&shown), "{shown} in {}", texts[k]);
        }
        harness.key_press(egui::Key::ArrowRight);
        harness.run_steps(2);
    }
    // Left shows the same text again
    for k in (4..expected.len()).rev() {
        harness.key_press(egui::Key::ArrowLeft);
        harness.run_steps(2);
        assert_eq!(phase_title(harness.state()), expected[k - 1]);
        assert_eq!(step_text(harness.state()), texts[k - 1], "phase {}", k - 1);
    }
    assert_eq!(phase_title(harness.state()), "Loss");
    // switching to MSE in the loss phase recomputes it (and every phase after)
    // the settings panel has an MSE button too: the step-through's is drawn last
    harness
        .get_all_by_label("MSE")
        .last()
        .expect("the loss phase's switch")
        .click();
    step_until(&mut harness, "the MSE trace", |app| {
        app.run_view()
            .trace
            .as_ref()
            .is_some_and(|t| t.settings.loss == Loss::Mse)
    });
    harness.run_steps(2);
    assert_eq!(
        phase_title(harness.state()),
        "Loss",
        "the learner stays where they were"
    );
    let mse = step_text(harness.state());
    assert!(mse.contains("L = (1/(n·m)) sum (a - y)^2"), "{mse}");
    let mse_trace = harness.state().run_view().trace.clone().unwrap();
    assert!(
        mse.contains(&format!("L = {}", num(mse_trace.loss))),
        "{mse}"
    );
    // nothing trained yet; Enter applies: one more step and a marker
    assert_eq!(step_count(harness.state()), start);
    harness.key_press(egui::Key::Enter);
    step_until(&mut harness, "the applied step", |app| {
        app.run_view().status.step == start + 1 && app.run_view().trace.is_none()
    });
    // the step trained is the one walked through: its weights are the trace's
    step_until(&mut harness, "the snapshot of that step", |app| {
        snapshot(app).is_some_and(|s| s.step == start + 1)
    });
    let after = snapshot(harness.state()).unwrap();
    assert_eq!(
        after.layers[0].weight.as_ref(),
        mse_trace.layers[0].weight_after.as_ref()
    );
    // a new walk, abandoned with Esc: nothing changes, and Right is Step again
    harness.get_by_label("Step through the next batch").click();
    step_until(&mut harness, "another trace", |app| {
        app.run_view().trace.is_some()
    });
    harness.run_steps(1);
    harness.key_press(egui::Key::Escape);
    step_until(&mut harness, "the walk ends", |app| {
        app.run_view().trace.is_none()
    });
    assert_eq!(step_count(harness.state()), start + 1);
    harness.key_press(egui::Key::ArrowRight);
    step_until(&mut harness, "Right trains a batch", |app| {
        step_count(app) == start + 2
    });
}

#[test]
fn stepping_through_the_probe_alone_marks_a_manual_step() {
    let mut harness = open("mnist-mlp", &["step"]);
    harness.step();
    harness
        .get_by_label_contains("Step through test sample 0 alone")
        .click();
    step_until(&mut harness, "the trace", |app| {
        app.run_view().trace.is_some()
    });
    let trace = harness.state().run_view().trace.clone().unwrap();
    assert_eq!(trace.targets.nrows(), 1, "a batch of one");
    let info = harness.state().run_view().info.clone().unwrap();
    assert_eq!(trace.input().row(0), info.test.inputs.row(0));
    harness.get_by_label("Apply as a training step").click();
    step_until(&mut harness, "the manual step", |app| {
        app.run_view()
            .markers
            .iter()
            .any(|m| m.label == "manual step")
    });
    assert_eq!(step_count(harness.state()), 1);
    // the epoch did not move: the next real batch is still the epoch's first
    assert_eq!(harness.state().run_view().status.epochs, 0.0);
}

fn step_count(app: &BackpropLab) -> u64 {
    app.run_view().status.step
}

#[test]
fn while_stepping_through_a_click_in_the_graph_chooses_whose_numbers_are_shown() {
    let mut harness = open("xor", &["network", "step"]);
    harness.key_press(egui::Key::T);
    step_until(&mut harness, "the trace", |app| {
        app.run_view().trace.is_some()
    });
    harness.key_press(egui::Key::ArrowRight); // forward, layer 0
    harness.run_steps(2);
    let graph = harness.state().views().get::<GraphView>();
    let nodes = graph.nodes.clone();
    let node = graph.node(Some(0), 2).expect("hidden unit 2 is drawn");
    click(&mut harness, node.center);
    harness.run_steps(1);
    assert_eq!(harness.state().views().step.selection.unit(0), Some(2));
    let text = step_text(harness.state());
    assert!(text.contains("Unit 2:"), "{text}");
    // an edge: input 1 -> hidden unit 3 chooses that unit and that weight
    let graph = harness.state().views().get::<GraphView>();
    let (from, to) = (
        graph.node(None, 1).unwrap(),
        graph.node(Some(0), 3).unwrap(),
    );
    click(&mut harness, point_on_edge(&nodes, from, to));
    harness.run_steps(1);
    let selection = harness.state().views().step.selection.clone();
    assert_eq!((selection.unit(0), selection.input(0)), (Some(3), Some(1)));
    // the update phase of layer 0 then spells out W[3,1]
    for _ in 0..6 {
        harness.key_press(egui::Key::ArrowRight);
        harness.run_steps(1);
    }
    harness.run_steps(1);
    assert_eq!(phase_title(harness.state()), "Update, layer 0");
    let text = step_text(harness.state());
    assert!(text.contains("The weight W[3,1]"), "{text}");
}

#[test]
fn clicking_a_training_point_on_the_boundary_makes_it_the_probe_to_step_through() {
    let mut harness = open("circle", &["boundary", "step"]);
    harness.step();
    let info = harness.state().run_view().info.clone().unwrap();
    let train = info
        .train_points
        .clone()
        .expect("a 2-D set has its training points");
    // the plot's square and the plane's extent give the screen position of a point
    let plane = snapshot(harness.state()).unwrap().plane.clone().unwrap();
    let area = harness
        .state()
        .views()
        .get::<BoundaryView>()
        .plot_rect
        .expect("the plot is drawn");
    let to_screen = |p: [f32; 2]| {
        Pos2::new(
            area.left() + (p[0] - plane.x.0) / (plane.x.1 - plane.x.0) * area.width(),
            area.bottom() - (p[1] - plane.y.0) / (plane.y.1 - plane.y.0) * area.height(),
        )
    };
    let index = 7;
    let point = [train.inputs[(index, 0)], train.inputs[(index, 1)]];
    click(&mut harness, to_screen(point));
    step_until(&mut harness, "the point is the probe", |app| {
        snapshot(app).is_some_and(|s| s.probe.name == format!("training point {index}"))
    });
    let probe = snapshot(harness.state()).unwrap().probe.clone();
    assert_eq!(probe.input.to_vec(), point.to_vec());
    assert_eq!(probe.label, Some(train.labels[index]));
    // and it can be stepped through alone, towards its own class (a frame first: the one just
    // run may have been drawn from the snapshot before)
    harness.step();
    harness
        .get_by_label_contains("Step through training point 7 alone")
        .click();
    step_until(&mut harness, "the trace", |app| {
        app.run_view().trace.is_some()
    });
    let trace = harness.state().run_view().trace.clone().unwrap();
    assert_eq!(trace.input().row(0).to_vec(), point.to_vec());
    assert_eq!(trace.targets[(0, 0)], train.labels[index] as f32);
}

#[test]
fn a_new_probe_while_stepping_through_the_probe_is_recorded_before_it_can_be_applied() {
    let mut harness = open("mnist-mlp", &["step"]);
    harness.step();
    harness
        .get_by_label_contains("Step through test sample 0 alone")
        .click();
    step_until(&mut harness, "the trace", |app| {
        app.run_view().trace.is_some()
    });
    let info = harness.state().run_view().info.clone().unwrap();
    let first = harness.state().run_view().trace.clone().unwrap();
    // another test image becomes the probe (as a gallery click makes it)
    harness
        .state_mut()
        .command(backprop_lab::train::protocol::Command::SetProbe(Probe {
            input: info.test.inputs.row(5).to_owned(),
            test_index: Some(5),
            label: Some(info.test.labels[5]),
            name: "test sample 5".into(),
        }));
    step_until(&mut harness, "the new probe's step", |app| {
        app.run_view()
            .trace
            .as_ref()
            .is_some_and(|t| t.id != first.id)
    });
    let trace = harness.state().run_view().trace.clone().unwrap();
    assert_eq!(trace.input().row(0), info.test.inputs.row(5));
    assert_eq!(
        backprop_lab::nn::predicted_class(trace.targets.row(0)),
        info.test.labels[5]
    );
    // Apply trains exactly that step
    harness.key_press(egui::Key::Enter);
    step_until(&mut harness, "the snapshot after it", |app| {
        snapshot(app).is_some_and(|s| s.step == 1)
    });
    assert_eq!(
        snapshot(harness.state()).unwrap().layers[1].weight.as_ref(),
        trace.layers[1].weight_after.as_ref()
    );
}

#[test]
fn a_press_after_the_pointer_jumped_in_the_same_frame_starts_a_new_stroke_there() {
    let mut harness = open("mnist-mlp", &["draw"]);
    harness.step();
    let canvas = drawing(&harness).canvas_rect.expect("the canvas is drawn");
    draw_stroke(&mut harness, canvas, &[(0.2, 0.2), (0.3, 0.25), (0.4, 0.3)]);
    let first = drawing(&harness).strokes[0].clone();
    // one frame: the pointer jumps to the other corner and presses there, as a pen does
    let far = canvas.min + egui::vec2(0.8, 0.8) * canvas.width();
    harness.input_mut().events.push(Event::PointerMoved(far));
    harness.input_mut().events.push(Event::PointerButton {
        pos: far,
        button: PointerButton::Primary,
        pressed: true,
        modifiers: Modifiers::default(),
    });
    harness.step();
    let near = canvas.min + egui::vec2(0.8, 0.7) * canvas.width();
    harness.input_mut().events.push(Event::PointerMoved(near));
    harness.step();
    harness.input_mut().events.push(Event::PointerButton {
        pos: near,
        button: PointerButton::Primary,
        pressed: false,
        modifiers: Modifiers::default(),
    });
    harness.step();
    let strokes = drawing(&harness).strokes.clone();
    assert_eq!(strokes.len(), 2, "{strokes:?}");
    assert_eq!(strokes[0], first, "the first stroke is untouched");
    let start = strokes[1][0];
    assert!(
        (start.x - 0.8).abs() < 0.01 && (start.y - 0.8).abs() < 0.01,
        "the new stroke starts where the press was: {start:?}"
    );
    // a tap without moving leaves a dot
    let tap = canvas.min + egui::vec2(0.5, 0.1) * canvas.width();
    for pressed in [true, false] {
        harness.input_mut().events.push(Event::PointerMoved(tap));
        harness.input_mut().events.push(Event::PointerButton {
            pos: tap,
            button: PointerButton::Primary,
            pressed,
            modifiers: Modifiers::default(),
        });
        harness.step();
    }
    assert_eq!(drawing(&harness).strokes.len(), 3);
}

/// The draw view of the app `harness` drives.
fn drawing(harness: &App) -> &DrawView {
    drawing_of(harness.state())
}

fn drawing_of(app: &BackpropLab) -> &DrawView {
    app.views().get::<DrawView>()
}

/// A file dropped on the window, as the windowing layer hands it over.
#[derive(Debug)]
struct Dropped(std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

fn drop_file(harness: &mut App, path: std::path::PathBuf) {
    harness
        .input_mut()
        .dropped_files
        .push(Arc::new(Dropped(path)));
    harness.run_steps(3);
}

#[test]
fn files_dropped_on_the_window_open_where_they_belong_and_missing_dialogs_say_so() {
    use backprop_lab::ui::file_dialog;
    use backprop_lab::ui::views::Source;

    let mut harness = open("mnist-mlp", &["curves"]);
    let dir = tempfile::tempdir().expect("a temporary folder");
    // test sample 0 as a PNG, white ink on black
    let info = harness.state().run_view().info.clone().expect("info");
    let pixels: Vec<u8> = info
        .test
        .inputs
        .row(0)
        .iter()
        .map(|v| (v * 255.0).round() as u8)
        .collect();
    let picture = dir.path().join("digit.png");
    image::GrayImage::from_raw(28, 28, pixels)
        .expect("28x28")
        .save(&picture)
        .expect("saved");

    // a picture: the drawing view comes on and classifies it
    drop_file(&mut harness, picture.clone());
    assert!(harness.state().shown_views().iter().any(|v| v == "draw"));
    let draw = harness.state().views().get::<DrawView>();
    assert_eq!(draw.source, Source::File(picture.clone()));
    let expected = backprop_lab::data::digit_image::from_file(&picture).expect("the same input");
    assert_eq!(draw.input.as_deref(), Some(&expected[..]));

    // a folder: the next reset's data
    drop_file(&mut harness, dir.path().to_path_buf());
    harness.get_by_label("Data, architecture or seed changed.");

    // anything else: a message, nothing changed
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "not a digit").expect("written");
    drop_file(&mut harness, notes);
    harness
        .get_by_label_contains("not a run, a lesson, a model (safetensors or JSON) or a picture");
    assert_eq!(
        harness.state().views().get::<DrawView>().source,
        Source::File(picture)
    );

    // no file-dialog service: the button says so and points to the path field
    assert!(
        file_dialog::pretend_unavailable(),
        "decided before the test"
    );
    harness.get_by_label("Open image...").click();
    harness.run_steps(2);
    let message = harness.state().views().get::<DrawView>().message.clone();
    assert_eq!(
        message,
        Some(file_dialog::unavailable_message(
            "the image path field beside the button"
        ))
    );
}

#[test]
fn an_opened_model_classifies_the_drawing_at_once() {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/torch_interop/exported-mnist-mlp.safetensors");
    let mut harness = open("mnist-cnn", &["draw"]);
    harness.state_mut().open_path(&fixture);
    step_until(&mut harness, "the model's run", |app| {
        snapshot(app).is_some_and(|s| s.specs.len() == 3 && s.step == 0)
    });
    harness.step();
    let canvas = drawing(&harness).canvas_rect.expect("the canvas is drawn");
    draw_stroke(&mut harness, canvas, &[(0.5, 0.2), (0.5, 0.5), (0.5, 0.8)]);
    step_until(&mut harness, "a prediction", |app| {
        drawing_of(app).probabilities.is_some()
    });
    let draw = drawing(&harness);
    let input = draw.input.clone().expect("the input");
    let (mut model, _) = backprop_lab::io::load_any(&fixture, None).expect("the model");
    let x = ndarray::Array2::from_shape_vec((1, input.len()), input).expect("a row");
    let expected = model
        .predict(x.view())
        .expect("a prediction")
        .row(0)
        .to_vec();
    let shown = draw.probabilities.clone().expect("probabilities");
    for (digit, (a, b)) in shown.iter().zip(&expected).enumerate() {
        assert!(
            (a - b).abs() < 1e-6,
            "digit {digit}: {a} shown, the model gives {b}"
        );
    }
}

#[test]
fn a_view_that_panics_stops_alone_says_why_and_restarts() {
    let mut harness = open("mnist-mlp", &["curves", "network", "draw"]);
    harness.state_mut().views_mut().request_crash("network");
    harness.run_steps(2);
    harness.get_by_label("This view stopped on an internal error; the rest of the app goes on.");
    harness.get_by_label("a crash requested in network");
    assert_eq!(harness.state().views().stopped().len(), 1);
    // the rest of the app works: training, the curves, the drawing canvas
    train_steps(&mut harness, 3);
    harness.get_by_label("Clear");
    step_until(&mut harness, "the curves have the steps", |app| {
        app.run_view().train_loss.len() >= 3
    });
    // the tile stays stopped (no panic every frame) until restarted
    harness.run_steps(3);
    assert_eq!(harness.state().views().stopped().len(), 1);
    harness.get_by_label("Restart the view").click();
    harness.run_steps(2);
    assert!(harness.state().views().stopped().is_empty());
    assert!(
        harness
            .query_by_label("This view stopped on an internal error; the rest of the app goes on.")
            .is_none()
    );
    // a fresh network view, drawing again
    train_steps(&mut harness, 1);
    assert!(!harness.state().views().get::<GraphView>().nodes.is_empty());
}

#[test]
fn a_layer_taller_than_a_texture_is_binned_to_fit_and_reads_every_unit() {
    // 3,000 units: more rows than the 2,048 texture side here; unit tiles of 3,000 would not fit
    let mut harness = app_harness::launch(Launch {
        config: Some(mnist_mlp_with_hidden(3000)),
        views: Some(vec!["weights".into()]),
        ..Launch::default()
    });
    harness
        .state_mut()
        .views_mut()
        .get_mut::<WeightsView>()
        .layout = Layout::Tiles;
    // 2.4 million weights: the picture is made on a thread of its own
    step_until(&mut harness, "the matrix is drawn", |app| {
        app.views().get::<WeightsView>().picture_rect.is_some()
    });
    assert!(harness.state().views().stopped().is_empty());
    let rect = harness
        .state()
        .views()
        .get::<WeightsView>()
        .picture_rect
        .expect("the matrix is drawn");
    // the readout still names single units: the last one, input 700
    let at = Pos2::new(
        rect.left() + rect.width() * (700.5 / 784.0),
        rect.top() + rect.height() * (2999.5 / 3000.0),
    );
    hover(&mut harness, at);
    let readout = harness
        .state()
        .views()
        .get::<WeightsView>()
        .readout
        .clone()
        .expect("a readout");
    assert_eq!(
        (readout.layer, readout.row, readout.column),
        (1, 2999, Some(700))
    );
    let weight = snapshot(harness.state()).expect("a snapshot").layers[1]
        .weight
        .as_ref()
        .expect("weights")[[2999, 700]];
    assert_eq!(readout.value, weight);
}

#[test]
fn a_large_networks_layer_statistics_are_worked_out_off_the_window_and_arrive_exact() {
    // 2 x 1.6 million weights and gradients: the table's means are taken on a thread of their own
    let mut harness = app_harness::launch(Launch {
        config: Some(mnist_mlp_with_hidden(2048)),
        views: Some(vec!["curves".into()]),
        ..Launch::default()
    });
    train_steps(&mut harness, 1);
    let now = snapshot(harness.state()).expect("a snapshot");
    let mean_abs = |values: &ndarray::Array2<f32>| {
        let sum = values.iter().fold(0.0f64, |s, v| s + f64::from(v.abs()));
        format!("{:.2e}", sum / values.len() as f64)
    };
    let layer = &now.layers[1];
    let (weight, gradient) = (
        mean_abs(layer.weight.as_ref().expect("weights")),
        mean_abs(layer.grad_weight.as_ref().expect("gradients")),
    );
    let started = std::time::Instant::now();
    while harness.query_by_label(&gradient).is_none() {
        assert!(
            started.elapsed() < app_harness::TIMEOUT,
            "no row with {gradient}"
        );
        harness.step();
    }
    harness.get_by_label(&weight);
}

#[test]
fn a_large_layers_picture_and_units_are_worked_out_off_the_window_the_last_ones_drawn_meanwhile() {
    // 784 x 2048: 1.6 million weights, more than a frame reads itself
    let mut harness = app_harness::launch(Launch {
        config: Some(mnist_mlp_with_hidden(2048)),
        views: Some(vec!["weights".into(), "network".into()]),
        ..Launch::default()
    });
    let drawn = |app: &BackpropLab| {
        app.views().get::<WeightsView>().picture_rect.is_some()
            && !app.views().get::<GraphView>().nodes.is_empty()
    };
    step_until(&mut harness, "the picture and the graph are drawn", drawn);
    for _ in 0..3 {
        let target = snapshot(harness.state()).expect("a snapshot").step + 1;
        harness.get_by_label("Step").click();
        // every frame while the new snapshot's are worked out still draws the last ones
        while snapshot(harness.state()).is_none_or(|s| s.step < target) {
            harness.step();
            assert!(
                drawn(harness.state()),
                "a frame without the picture or the graph"
            );
        }
        for _ in 0..4 {
            harness.step();
            assert!(
                drawn(harness.state()),
                "a frame without the picture or the graph"
            );
        }
    }
    // the readout is the newest snapshot's own number
    let rect = harness
        .state()
        .views()
        .get::<WeightsView>()
        .picture_rect
        .expect("the matrix is drawn");
    hover(&mut harness, rect.center());
    let readout = harness
        .state()
        .views()
        .get::<WeightsView>()
        .readout
        .clone()
        .expect("a readout");
    let now = snapshot(harness.state()).expect("a snapshot");
    let column = readout.column.expect("a weight, not the bias");
    assert_eq!(
        readout.value,
        now.layers[readout.layer].weight.as_ref().expect("weights")[[readout.row, column]]
    );
    assert!(harness.state().views().stopped().is_empty());
}

/// mnist-mlp with a hidden layer of `units`.
fn mnist_mlp_with_hidden(units: usize) -> backprop_lab::train::RunConfig {
    let mut config = backprop_lab::train::RunConfig::from_preset(
        &backprop_lab::train::Preset::named("mnist-mlp").expect("a preset"),
        42,
    );
    config.layers[1] = backprop_lab::nn::LayerSpec::Dense {
        units,
        activation: backprop_lab::nn::Activation::Relu,
    };
    config
}
