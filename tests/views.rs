//! The views inside the network, driven headless through egui_kittest with real pointer events:
//! what the pointer reads must be the model's own numbers, the confusion matrix must account for
//! every test sample, and a digit drawn on the canvas must reach the network.

use std::time::{Duration, Instant};

use backprop_lab::nn::{Network, predicted_class};
use backprop_lab::train::worker::Snapshot;
use backprop_lab::ui::views::{GraphReadout, Quantity, ViewKind};
use backprop_lab::ui::{BackpropLab, Launch};
use egui::{Event, Modifiers, PointerButton, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::sync::Arc;

const TIMEOUT: Duration = Duration::from_secs(30);

type App = Harness<'static, BackpropLab>;

/// The app on `preset` with only `views` on.
fn open(preset: &str, views: &[ViewKind]) -> App {
    let views = views.to_vec();
    let preset = preset.to_string();
    let mut harness = Harness::builder()
        .with_size([1440.0, 900.0])
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

/// Runs frames until `done` holds; fails after TIMEOUT. Always runs one frame first.
fn step_until(harness: &mut App, what: &str, done: impl Fn(&BackpropLab) -> bool) {
    let started = Instant::now();
    harness.step();
    while !done(harness.state()) {
        assert!(
            started.elapsed() < TIMEOUT,
            "timed out waiting until {what}"
        );
        harness.step();
    }
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
    let mut harness = open("mnist-mlp", &[ViewKind::Weights]);
    train_steps(&mut harness, 1);
    let before = snapshot(harness.state()).expect("snapshot");
    train_steps(&mut harness, 1);
    let rect = harness
        .state()
        .views()
        .weights
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
            .weights
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

#[test]
fn first_layer_tiles_read_a_units_weight_for_a_pixel() {
    let mut harness = open("mnist-mlp", &[ViewKind::Weights]);
    harness.get_by_label("Tiles").click();
    harness.step();
    harness.step();
    let rect = harness
        .state()
        .views()
        .weights
        .picture_rect
        .expect("tiles drawn");
    // the top-left tile is unit 0, 28 x 28 picture pixels of the input image
    hover(&mut harness, rect.min + egui::vec2(5.0, 5.0));
    let readout = harness
        .state()
        .views()
        .weights
        .readout
        .clone()
        .expect("a readout");
    assert_eq!(readout.row, 0, "the top-left tile is unit 0");
    let column = readout.column.expect("a pixel");
    let weight = snapshot(harness.state()).unwrap().layers[1]
        .weight
        .clone()
        .unwrap();
    assert_eq!(readout.value, weight[[0, column]]);
    assert!(
        readout.text.starts_with("unit 0, pixel"),
        "{}",
        readout.text
    );
}

#[test]
fn graph_hover_shows_a_nodes_activation_and_bias_and_an_edges_weight() {
    let mut harness = open("circle", &[ViewKind::Network]);
    train_steps(&mut harness, 3);
    let graph = &harness.state().views().graph;
    let node = graph
        .node(Some(0), 3)
        .expect("unit 3 of the first hidden layer is drawn");
    let next = graph
        .node(Some(1), 5)
        .expect("unit 5 of the second hidden layer is drawn");
    hover(&mut harness, node.center);
    let now = snapshot(harness.state()).expect("snapshot");
    match harness.state().views().graph.readout.clone() {
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
    // the middle of the edge from unit 3 to the next layer's unit 5
    let middle = Pos2::new(
        (node.center.x + next.center.x) / 2.0,
        (node.center.y + next.center.y) / 2.0,
    );
    hover(&mut harness, middle);
    match harness.state().views().graph.readout.clone() {
        Some(GraphReadout::Edge {
            layer,
            from,
            to,
            weight,
        }) => {
            // edges cross near their middles; whichever is nearest, its weight is the model's
            assert_eq!(layer, 1);
            assert_eq!(weight, now.layers[1].weight.as_ref().unwrap()[[to, from]]);
        }
        other => panic!("expected an edge readout, found {other:?}"),
    }
    // clicking a node selects it (its edges highlighted); clicking it again clears it
    click(&mut harness, node.center);
    assert_eq!(harness.state().views().graph.selected, Some((Some(0), 3)));
    click(&mut harness, node.center);
    assert_eq!(harness.state().views().graph.selected, None);
}

#[test]
fn large_layers_show_a_subset_and_say_how_many_more() {
    let mut harness = open("mnist-mlp", &[ViewKind::Network]);
    harness.step();
    let shown = harness
        .state()
        .views()
        .graph
        .nodes
        .iter()
        .filter(|n| n.layer == Some(1))
        .count();
    assert_eq!(shown, 16, "16 of the 128 hidden units");
    harness.get_by_label_contains("+112 more");
    let outputs = harness
        .state()
        .views()
        .graph
        .nodes
        .iter()
        .filter(|n| n.layer == Some(2))
        .count();
    assert_eq!(outputs, 10);
}

#[test]
fn confusion_matrix_sums_to_the_test_set_and_a_cell_lists_exactly_its_examples() {
    let mut harness = open("mnist-mlp", &[ViewKind::Confusion]);
    train_steps(&mut harness, 20);
    step_until(&mut harness, "an evaluation after training", |app| {
        snapshot(app)
            .and_then(|s| s.test_outputs.clone())
            .is_some_and(|o| o.step == 20)
    });
    harness.step();
    let app = harness.state();
    let info = app.run_view().info.clone().expect("info");
    let counts = app.views().confusion.counts.clone();
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
    let grid = app.views().confusion.grid_rect.expect("drawn");
    let cell = grid.width() / 10.0;
    click(
        &mut harness,
        grid.min + egui::vec2(cell * (p as f32 + 0.5), cell * (t as f32 + 0.5)),
    );
    let app = harness.state();
    assert_eq!(app.views().confusion.selected, Some((t, p)));
    let examples = app.views().confusion.examples(&info);
    assert_eq!(examples.len(), counts[t][p]);
    let outputs = snapshot(app).unwrap().test_outputs.clone().unwrap();
    let expected: Vec<usize> = (0..info.test_samples)
        .filter(|&i| info.test.labels[i] == t && predicted_class(outputs.outputs.row(i)) == p)
        .collect();
    assert_eq!(examples, expected);
    // the first of them is on screen as a card
    harness.get_by_label(&format!("test sample {}", examples[0]));
}

#[test]
fn clicking_a_gallery_prediction_makes_it_the_probe() {
    let mut harness = open("mnist-mlp", &[ViewKind::Gallery, ViewKind::Network]);
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

#[test]
fn decision_boundary_hover_reads_the_models_output_at_that_point() {
    let mut harness = open("spiral", &[ViewKind::Boundary]);
    train_steps(&mut harness, 5);
    let centre = Pos2::new(330.0 + 560.0, 480.0);
    // find a point inside the plot: sweep until the view reads something
    let mut readout = None;
    for dx in [0.0, -60.0, 60.0, -120.0, 120.0] {
        hover(&mut harness, centre + egui::vec2(dx, 0.0));
        readout = harness.state().views().boundary.readout.clone();
        if readout.is_some() {
            break;
        }
    }
    let readout = readout.expect("the pointer is over the plane");
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
    let x = ndarray::arr2(&[readout.grid]);
    let output = network.predict(x.view()).unwrap();
    assert_eq!(readout.outputs.len(), 1);
    assert!((output[[0, 0]] - readout.outputs[0]).abs() < 1e-5);
    // the grid point is within half a cell of the pointer's point
    let plane = now.plane.clone().unwrap();
    let cell = (plane.x.1 - plane.x.0) / (plane.resolution - 1) as f32;
    assert!((readout.grid[0] - readout.point[0]).abs() <= cell * 0.51);
    assert!((readout.grid[1] - readout.point[1]).abs() <= cell * 0.51);
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
    let mut harness = open("mnist-mlp", &[ViewKind::Draw, ViewKind::Network]);
    harness.step();
    let canvas = harness
        .state()
        .views()
        .draw
        .canvas_rect
        .expect("the canvas is drawn");
    // a "7": a bar across the top, then down to the bottom left
    let seven: Vec<(f32, f32)> = (0..=10)
        .map(|i| (0.25 + 0.05 * i as f32, 0.2))
        .chain((1..=12).map(|i| (0.75 - 0.03 * i as f32, 0.2 + 0.055 * i as f32)))
        .collect();
    draw_stroke(&mut harness, canvas, &seven);
    step_until(&mut harness, "a prediction", |app| {
        app.views().draw.probabilities.is_some()
    });
    let draw = &harness.state().views().draw;
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

    // a second stroke, then Undo takes it away again
    draw_stroke(&mut harness, canvas, &[(0.4, 0.5), (0.6, 0.5)]);
    assert_eq!(harness.state().views().draw.strokes.len(), 2);
    harness.get_by_label("Undo").click();
    harness.step();
    assert_eq!(harness.state().views().draw.strokes.len(), 1);
    assert_eq!(harness.state().views().draw.input.clone().unwrap(), input);

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
    assert!(harness.state().views().draw.input.is_none());
    assert!(harness.state().views().draw.probabilities.is_none());
}

#[test]
fn drawing_says_why_it_is_unavailable_for_a_2d_model() {
    let mut harness = open("spiral", &[ViewKind::Draw]);
    harness.step();
    harness.get_by_label_contains("Drawing needs a network that takes a 28x28 image");
}

#[test]
fn a_corrupt_image_says_why_and_keeps_the_drawing() {
    let mut harness = open("mnist-mlp", &[ViewKind::Draw]);
    harness.step();
    let canvas = harness
        .state()
        .views()
        .draw
        .canvas_rect
        .expect("the canvas is drawn");
    draw_stroke(&mut harness, canvas, &[(0.5, 0.2), (0.5, 0.5), (0.5, 0.8)]);
    let input = harness
        .state()
        .views()
        .draw
        .input
        .clone()
        .expect("a drawing");
    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("digit.png");
    std::fs::write(&corrupt, b"\x89PNG\r\n\x1a\n not really a picture").unwrap();
    harness.state_mut().views_mut().draw.open(corrupt);
    harness.step();
    let message = harness
        .state()
        .views()
        .draw
        .message
        .clone()
        .expect("an error message");
    assert!(message.contains("digit.png"), "{message}");
    harness.get_by_label_contains("digit.png");
    // the drawing and its input are still there
    assert_eq!(harness.state().views().draw.strokes.len(), 1);
    assert_eq!(harness.state().views().draw.input.clone().unwrap(), input);
}

#[test]
fn a_probe_of_the_wrong_size_is_refused_and_the_old_one_stays() {
    use backprop_lab::train::worker::{Command, Probe};
    use backprop_lab::ui::Alert;
    let mut harness = open("mnist-mlp", &[ViewKind::Network]);
    harness.state_mut().command(Command::SetProbe(Probe {
        input: ndarray::Array1::zeros(3),
        test_index: None,
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
