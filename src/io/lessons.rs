//! The built-in lessons, in the order of the course the app teaches: the training loop, why a
//! hidden layer, the loss, the optimizer, the learning rate, overfitting, and a real CNN. Each
//! runs to its end on its own; its texts point at what the app's own numbers show.

use super::lesson_file::{Action, FORMAT, Lesson, LessonStep, VERSION, WeightsLayout};
use super::torch::Framework;
use crate::data::{DataSource, ToyKind, ToySpec};
use crate::nn::{Activation, LayerSpec, Loss, Optimizer};
use crate::train::controls::{Control, Hidden};
use crate::train::protocol::Goal;
use crate::train::{Phase, Preset, RunConfig, SettingChange};

/// The seed every built-in lesson's runs start from.
const SEED: u64 = 42;

/// Every built-in lesson, in course order.
pub fn built_in() -> Vec<Lesson> {
    vec![
        training_loop(),
        hidden_layer(),
        mse_against_cross_entropy(),
        optimizers(),
        learning_rate(),
        overfitting(),
        keras_cnn(),
    ]
}

fn preset(name: &str) -> RunConfig {
    let preset = Preset::named(name).expect("the built-in lessons name existing presets");
    let mut run = RunConfig::from_preset(&preset, SEED);
    // a lesson decides when training stops
    run.epochs = None;
    run
}

fn lesson(title: &str, run: RunConfig, views: &[&str], hidden: &[Control]) -> Lesson {
    Lesson {
        format: FORMAT.into(),
        version: VERSION,
        title: title.into(),
        run,
        views: views.iter().map(|v| v.to_string()).collect(),
        hidden: Hidden::of(hidden.iter().copied()),
        steps: Vec::new(),
    }
}

fn step(text: &str, actions: Vec<Action>) -> LessonStep {
    LessonStep {
        text: text.into(),
        actions,
    }
}

fn views(ids: &[&str]) -> Action {
    Action::ShowViews(ids.iter().map(|v| v.to_string()).collect())
}

fn dense(units: usize, activation: Activation) -> LayerSpec {
    LayerSpec::Dense { units, activation }
}

fn set_learning_rate(rate: f32) -> Action {
    Action::Set(SettingChange::LearningRate(rate))
}

fn set_optimizer(optimizer: Optimizer) -> Action {
    Action::Set(SettingChange::Optimizer(optimizer))
}

/// The settings no lesson about other things lets students wander into.
const SETUP: [Control; 3] = [Control::Dataset, Control::Architecture, Control::Seed];

/// 1. Forward, loss, backward, update, one phase at a time on XOR.
fn training_loop() -> Lesson {
    let mut lesson = lesson(
        "1. The training loop, one step at a time",
        preset("xor"),
        &["step", "network"],
        &SETUP,
    );
    lesson.steps = vec![
        step(
            "Every training step does four things to a batch of examples: **forward** (work out \
             the outputs), **loss** (how wrong they are), **backward** (each weight's gradient: \
             the slope of the loss) and **update** (move the weights).\n\nHere the batch is \
             XOR's four points. Below: the first phase of one real training step, with all its \
             numbers.",
            vec![Action::StepThrough(Phase::Input)],
        ),
        step(
            "**Forward, layer 0.** Each hidden unit computes z = w₁x₁ + w₂x₂ + b, then \
             a = tanh(z), which squashes z into −1 to 1.\n\n\
             - Click a unit in the network to see its own sum, term by term.",
            vec![Action::StepThrough(Phase::Forward(0))],
        ),
        step(
            "**Forward, layer 1.** The output unit adds up the four hidden values h the same \
             way and squashes the sum into 0 to 1 with σ (sigmoid): a = σ(w·h + b), the \
             probability of class 1 for each point.",
            vec![Action::StepThrough(Phase::Forward(1))],
        ),
        step(
            "**Loss.** Cross-entropy: L = −mean[y·log a + (1 − y)·log(1 − a)]. One number for \
             the whole batch: how wrong the network is now.",
            vec![Action::StepThrough(Phase::Loss)],
        ),
        step(
            "**Output gradient.** The backward pass starts at the output. For a sigmoid with \
             cross-entropy, dL/dz = (a − y)/n for each point (n = 4, the batch): large where \
             the network is wrong, near 0 where it is right.",
            vec![Action::StepThrough(Phase::OutputGradient)],
        ),
        step(
            "**Backward, layer 1.** The chain rule carries the gradient back: the layer gets \
             dL/dW for each of its weights and passes dL/dh down to the layer before it.",
            vec![Action::StepThrough(Phase::Backward(1))],
        ),
        step(
            "**Backward, layer 0.** The same one layer further back, through tanh's slope \
             1 − a², down to the first weights.",
            vec![Action::StepThrough(Phase::Backward(0))],
        ),
        step(
            "**Update.** The optimizer (here Adam) moves every weight a small step against its \
             gradient: downhill on the loss.",
            vec![Action::StepThrough(Phase::Update(0))],
        ),
        step(
            "**Check.** The loss after the update against before, and one gradient checked by \
             nudging its weight a little and measuring how the loss changes (finite \
             differences).",
            vec![Action::StepThrough(Phase::Check)],
        ),
        step(
            "Now the same loop 300 times. Watch the loss fall and the boundary bend until the \
             four points sit on the right sides.",
            vec![
                views(&["curves", "boundary"]),
                Action::PlayUntil(Goal::Epoch(300)),
            ],
        ),
    ];
    lesson
}

/// 2. No hidden layer cannot separate XOR; four tanh units can.
fn hidden_layer() -> Lesson {
    let mut straight = preset("xor");
    straight.layers = vec![dense(1, Activation::Sigmoid)];
    let mut lesson = lesson(
        "2. XOR needs a hidden layer",
        straight,
        &["boundary", "curves"],
        &SETUP,
    );
    lesson.steps = vec![
        step(
            "A single sigmoid unit: a = σ(w₁x₁ + w₂x₂ + b). Its boundary, where a = 0.5, is \
             where w₁x₁ + w₂x₂ + b = 0: a straight line.\n\nTrain it for 300 epochs.",
            vec![Action::PlayUntil(Goal::Epoch(300))],
        ),
        step(
            "No straight line puts (0,1) and (1,0) on one side and (0,0) and (1,1) on the \
             other. The best a single unit can do is say 0.5 everywhere: its loss stays at \
             log 2 = 0.693 and its accuracy wanders between 25% and 75%, however long it \
             trains.\n\nNow four tanh \
             units between the input and the output: same data, same seed. The single unit's \
             curves stay on the chart as a pin.",
            vec![
                Action::Pin("no hidden layer".into()),
                Action::LoadPreset {
                    preset: "xor".into(),
                    seed: SEED,
                },
                Action::PlayUntil(Goal::Epoch(300)),
            ],
        ),
        step(
            "Each hidden unit draws its own line: its picture in the network view. The output \
             combines the four into a bent boundary, and all four points are on their right \
             sides.",
            vec![views(&["boundary", "network"])],
        ),
    ];
    lesson
}

/// The circle preset: a disc inside a ring, learned in seconds.
fn circle() -> RunConfig {
    preset("circle")
}

/// The circle with plain SGD at `rate`, the optimizer hidden: lessons about something else.
fn circle_sgd(title: &str, rate: f32) -> Lesson {
    let mut run = circle();
    run.settings.optimizer.optimizer = Optimizer::Sgd;
    run.settings.optimizer.learning_rate = rate;
    lesson(
        title,
        run,
        &["curves", "boundary"],
        &[
            Control::Dataset,
            Control::Architecture,
            Control::Seed,
            Control::Optimizer,
        ],
    )
}

/// 3. The same initial weights under MSE and under cross-entropy.
fn mse_against_cross_entropy() -> Lesson {
    let mut lesson = circle_sgd("3. MSE against cross-entropy", 0.5);
    lesson.steps = vec![
        step(
            "The same network from the same initial weights, trained twice with plain SGD \
             (lr = 0.5): first with MSE, L = mean (a − y)², then with cross-entropy.\n\nFirst \
             MSE, for 10 epochs. The fork saves this starting point to come back to.",
            vec![
                Action::Fork,
                Action::Set(SettingChange::Loss(Loss::Mse)),
                Action::PlayUntil(Goal::Epoch(10)),
            ],
        ),
        step(
            "Back to the same start, now with cross-entropy. The MSE run stays on the chart \
             as a pin, in its own colour.\n\nCompare the accuracy curves: the two losses \
             measure in different units, so their loss curves do not compare.",
            vec![
                Action::BackToFork,
                Action::Set(SettingChange::Loss(Loss::CrossEntropy)),
                Action::PlayUntil(Goal::Epoch(10)),
            ],
        ),
        step(
            "Why: the **output gradient**, how hard the loss pushes the output's sum z. With a \
             sigmoid output, for each point (then divided by the batch size):\n\n\
             - MSE: dL/dz = 2(a − y)·a(1 − a). a(1 − a) is never more than 0.25, so the push \
             is at most half of cross-entropy's, and near 0 when the unit is confidently \
             wrong;\n\
             - cross-entropy: dL/dz = a − y: large exactly when it is wrong.\n\nHere is that \
             phase under MSE from the same start, beside what cross-entropy would give.",
            vec![
                Action::BackToFork,
                Action::Set(SettingChange::Loss(Loss::Mse)),
                views(&["step", "curves"]),
                Action::StepThrough(Phase::OutputGradient),
            ],
        ),
    ];
    lesson
}

/// 4. SGD, momentum and Adam from one fork.
fn optimizers() -> Lesson {
    let mut lesson = lesson(
        "4. SGD, momentum and Adam",
        circle(),
        &["curves", "boundary"],
        &[
            Control::Dataset,
            Control::Architecture,
            Control::Seed,
            Control::Loss,
        ],
    );
    let branch = |optimizer: Optimizer, rate: f32, back: bool| {
        let mut actions = Vec::new();
        if back {
            actions.push(Action::BackToFork);
        } else {
            actions.push(Action::Fork);
        }
        actions.extend([
            set_optimizer(optimizer),
            set_learning_rate(rate),
            Action::PlayUntil(Goal::Epoch(15)),
        ]);
        actions
    };
    lesson.steps = vec![
        step(
            "Plain **SGD**: w <- w − lr·g, where g is the gradient (the slope of the loss) and \
             lr = 0.05. 15 epochs; the fork saves this starting point to come back to.",
            branch(Optimizer::Sgd, 0.05, false),
        ),
        step(
            "**Momentum**: v <- μ·v + g, then w <- w − lr·v, with μ = 0.9. The steps build up \
             speed in a direction the gradients keep pointing to. Same start, same lr; SGD \
             stays on the chart as a pin.",
            branch(Optimizer::MOMENTUM, 0.05, true),
        ),
        step(
            "**Adam**: each weight's step is its average gradient divided by its typical size, \
             m_hat / (√v_hat + ε), so every weight moves by about lr per step however small \
             its gradient. Its steps are larger, so it gets a smaller lr: 0.01.",
            branch(Optimizer::ADAM, 0.01, true),
        ),
        step(
            "Three runs from one start: the pins hold SGD and momentum beside Adam's live \
             curve. Which loss falls first? Which ends lowest?\n\nWith μ = 0.9, momentum's \
             steps grow to up to 1/(1 − μ) = 10 times SGD's where the slope keeps its \
             direction: that is how it pulls ahead with the same lr.",
            vec![],
        ),
    ];
    lesson
}

/// 5. Too small, right, too large.
fn learning_rate() -> Lesson {
    let mut lesson = circle_sgd("5. The learning rate", 0.02);
    lesson.steps = vec![
        step(
            "SGD moves each weight by lr·g: the learning rate times the gradient. First a \
             learning rate that is too small: lr = 0.001 for 10 epochs. The fork saves this \
             starting point.",
            vec![
                Action::Fork,
                set_learning_rate(0.001),
                Action::PlayUntil(Goal::Epoch(10)),
            ],
        ),
        step(
            "The loss hardly moved: every step is tiny. Now lr = 0.5 from the same start.",
            vec![
                Action::BackToFork,
                set_learning_rate(0.5),
                Action::PlayUntil(Goal::Epoch(10)),
            ],
        ),
        step(
            "Now far too large: lr = 100. Each step jumps right over the lowest point of the \
             loss and lands higher on the other side: within a few steps the loss explodes.",
            vec![
                Action::BackToFork,
                set_learning_rate(100.0),
                Action::PlayUntil(Goal::Epoch(10)),
            ],
        ),
        step(
            "The app paused the run and said why. A good learning rate is about the largest \
             with which the loss still goes down steadily.",
            vec![],
        ),
    ];
    lesson
}

/// 6. A tiny training set memorised, then L2, then dropout.
fn overfitting() -> Lesson {
    let tiny = |layers: Vec<LayerSpec>| {
        let mut run = circle();
        run.preset = None;
        run.data = DataSource::Toy(ToySpec {
            noise: 0.25,
            train_fraction: 0.1,
            ..ToySpec::new(ToyKind::Circle, 400, SEED)
        });
        run.layers = layers;
        run.settings.optimizer.learning_rate = 0.01;
        run.settings.batch_size = 8;
        run
    };
    let wide = vec![
        dense(64, Activation::Relu),
        dense(64, Activation::Relu),
        dense(1, Activation::Sigmoid),
    ];
    let mut dropped = wide.clone();
    dropped.insert(1, LayerSpec::Dropout { rate: 0.5 });
    dropped.insert(3, LayerSpec::Dropout { rate: 0.5 });
    let mut lesson = lesson(
        "6. Overfitting",
        tiny(wide.clone()),
        &["curves", "boundary"],
        &[Control::Dataset, Control::Architecture, Control::Seed],
    );
    lesson.steps = vec![
        step(
            "40 noisy training points, 360 test points, and a network with over 4,000 \
             weights. Train 150 epochs and watch both losses: training (on the 40) and test \
             (on the 360).",
            vec![Action::PlayUntil(Goal::Epoch(150))],
        ),
        step(
            "The training loss keeps falling while the **test loss turns up**: the network \
             memorises the 40 points, noise included, and the boundary wraps around them.\n\n\
             Now L2: (λ/2)·Σw² added to the loss pulls every weight towards 0 (λ = 0.01). \
             Same start; the first run stays on the chart as a pin.",
            vec![
                Action::Pin("no L2".into()),
                Action::LoadRun(tiny(wide.clone())),
                Action::Set(SettingChange::WeightDecay(0.01)),
                Action::PlayUntil(Goal::Epoch(150)),
            ],
        ),
        step(
            "With L2 the test loss stays low: smaller weights, a smoother boundary.\n\nNow \
             dropout instead: while training, each hidden value is zeroed with probability \
             0.5, so no unit can rely on another.",
            vec![
                Action::Pin("L2 0.01".into()),
                Action::LoadRun(tiny(dropped)),
                Action::PlayUntil(Goal::Epoch(150)),
            ],
        ),
        step(
            "Three runs on the same 40 points: the pins hold the first run and L2 beside \
             dropout's live curves. At the end the first run's test loss is near 2, \
             dropout's near 1 and L2's near 0.5: both help, L2 the most here.",
            vec![],
        ),
    ];
    lesson
}

/// 7. The reference Keras CNN on MNIST, its code, filters and confusion, then a drawn digit.
fn keras_cnn() -> Lesson {
    let mut lesson = lesson(
        "7. A CNN on MNIST, as in Keras",
        preset("mnist-cnn"),
        &["code", "curves"],
        &[Control::Dataset, Control::Architecture, Control::Seed],
    );
    lesson.steps = vec![
        step(
            "The reference Keras model: Conv2D(32, 3×3, ReLU), MaxPooling2D(2), Flatten, \
             Dense(128, ReLU), Dense(10, softmax); Adam, batch 32. The Code view shows it as \
             Keras code: the network this app trains.\n\nTrain it for 5 epochs, on the app's \
             9,000 MNIST digits rather than all 70,000.",
            vec![
                Action::ShowCode(Framework::Keras),
                Action::PlayUntil(Goal::Epoch(5)),
            ],
        ),
        step(
            "The first layer's 32 filters, each a 3×3 picture of its weights: blue where ink \
             adds to the filter's sum, red where ink takes away from it.",
            vec![
                views(&["weights", "curves"]),
                Action::ShowWeights(WeightsLayout::Tiles),
            ],
        ),
        step(
            "What each filter finds in test sample 0: its feature map, bright where the \
             filter's pattern is in the digit. Some light up the whole stroke, others only \
             its edges at one angle.",
            vec![
                Action::Probe(0),
                Action::ShowWeights(WeightsLayout::FeatureMaps),
            ],
        ),
        step(
            "Which digits it confuses with which: rows are the true digit, columns the \
             prediction.",
            vec![views(&["confusion", "gallery"])],
        ),
        step(
            "Your turn: draw a digit in the Draw view and see what the network makes of it.",
            vec![views(&["draw", "network"])],
        ),
    ];
    lesson
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_lesson_is_a_valid_lesson_file_and_reads_back_the_same() {
        let lessons = built_in();
        assert_eq!(lessons.len(), 7);
        for lesson in lessons {
            let json = lesson.to_json();
            let read = Lesson::from_bytes(json.as_bytes(), &lesson.title)
                .unwrap_or_else(|e| panic!("{}: {e}", lesson.title));
            assert_eq!(read, lesson);
            assert!(!lesson.steps.is_empty(), "{}", lesson.title);
        }
    }
}
