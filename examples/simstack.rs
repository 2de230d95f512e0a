//! The simulated Jellyfin, Radarr and Sonarr as a standalone process, for tests that run
//! shelflife as an installed service (the .deb in a container, the NixOS VM test).
//!
//! `simstack [BASE_PORT [MOVIES EPISODES USERS]]` serves the demo library on 127.0.0.1: Jellyfin
//! on BASE_PORT (default 18096), Radarr on BASE_PORT + 1, Sonarr on BASE_PORT + 2. With sizes it
//! serves a synthetic library instead (40 % watched), to profile a pass by hand. It prints a
//! config for them on stdout (keys inline) and serves until SIGTERM or SIGINT.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use shelflife_sim::{SimStack, SyntheticSpec, World};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base: u16 = match std::env::args().nth(1) {
        Some(arg) => arg.parse().map_err(|_| format!("not a port: {arg}"))?,
        None => 18096,
    };
    let ports = [base, base + 1, base + 2];
    let sizes: Vec<usize> = std::env::args()
        .skip(2)
        .map(|a| a.parse().map_err(|_| format!("not a number: {a}")))
        .collect::<Result<_, _>>()?;
    let now = jiff::Timestamp::now();
    let world = match sizes[..] {
        [] => World::demo(now),
        [movies, episodes, users] => World::synthetic(
            now,
            SyntheticSpec {
                movies,
                episodes,
                users,
                watched_share: 0.4,
                seed: 42,
            },
        ),
        _ => return Err("usage: simstack [BASE_PORT [MOVIES EPISODES USERS]]".into()),
    };
    let mut stack = SimStack::start_on(world, ports).await?;
    println!("{}", stack.config_toml(""));
    use tokio::signal::unix::{signal, SignalKind};
    let (mut term, mut int) = (
        signal(SignalKind::terminate())?,
        signal(SignalKind::interrupt())?,
    );
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    stack.shutdown().await;
    Ok(())
}
