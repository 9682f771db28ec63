//! Classifier benchmarks: throughput of `classify` over the test split (messages per second),
//! and the start-up cost of `Classifier::train` on what the built-in classifier learns from
//! (the training split, the supplements, the realistic messages and the hard cases).
//!
//! Run with `cargo bench --bench classify`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use guichet::classify::{parse_labelled, training_examples, Classifier};

const TEST: &str = include_str!("../data/corpus/test.jsonl");

fn classify_throughput(c: &mut Criterion) {
    let examples = match parse_labelled(TEST) {
        Ok(examples) => examples,
        Err(e) => panic!("the test split does not parse: {e}"),
    };
    let classifier = Classifier::builtin();
    let mut group = c.benchmark_group("classify");
    group.throughput(Throughput::Elements(examples.len() as u64));
    group.bench_function("test split", |b| {
        b.iter(|| {
            for e in &examples {
                black_box(classifier.classify(black_box(&e.text)));
            }
        })
    });
    group.finish();
}

fn training_time(c: &mut Criterion) {
    let examples = training_examples();
    let mut group = c.benchmark_group("train");
    group.sample_size(20);
    group.bench_function("built-in corpus", |b| {
        b.iter(|| black_box(Classifier::train(black_box(&examples))))
    });
    group.finish();
}

criterion_group!(benches, classify_throughput, training_time);
criterion_main!(benches);
