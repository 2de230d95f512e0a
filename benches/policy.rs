//! The retention rules alone (`policy::plan`), with criterion, on the libraries of the pass
//! benchmark: `cargo bench --bench policy`. The library is fetched once from the simulated stack
//! and joined; only the planning is measured.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion};

use shelflife::config::{Config, Env};
use shelflife::inventory::{self, InventoryOptions};
use shelflife::library::Library;
use shelflife::pass::Pass;
use shelflife::policy;
use shelflife_sim::{SimStack, SyntheticSpec, World};

/// The joined library of a synthetic world with `movies` and `episodes`, ~40 % watched.
fn library(movies: usize, episodes: usize, users: usize) -> (Library, Config) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let spec = SyntheticSpec {
            movies,
            episodes,
            users,
            watched_share: 0.4,
            seed: 42,
        };
        let stack = SimStack::start(World::synthetic(jiff::Timestamp::now(), spec))
            .await
            .expect("stack");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, stack.config_toml("")).expect("config");
        let config = Config::load(&path, &Env::from_pairs([]))
            .expect("config")
            .config;
        let options = InventoryOptions {
            users: config.jellyfin.users.clone(),
            ..InventoryOptions::default()
        };
        let library = {
            let pass = Pass::new(config.clone()).expect("clients");
            inventory::collect(pass.sources(), &options)
                .await
                .expect("inventory")
                .library
        };
        (library, config)
    })
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("policy::plan");
    group.sample_size(20);
    for (name, movies, episodes) in [
        ("S", 1_000, 5_000),
        ("M", 5_000, 25_000),
        ("L", 10_000, 100_000),
    ] {
        let (library, config) = library(movies, episodes, 1);
        let now = jiff::Timestamp::now();
        group.bench_function(name, |b| {
            b.iter(|| policy::plan(&library, &config.rules, now))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
