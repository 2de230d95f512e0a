//! Ready-made worlds: the demo's small library, the seeds' Breaking Bad, and a generated large
//! library for the benchmark and the request-budget tests.

use jiff::Timestamp;

use super::{MovieSpec, SeriesSpec, World};

/// The seeds' Breaking Bad, as `alice` watched it.
fn breaking_bad_spec() -> SeriesSpec {
    SeriesSpec::new("Breaking Bad", false)
        .season(1, 7)
        .season(2, 13)
        .season(3, 13)
        .season(4, 13)
        .season(5, 16)
        .unaired(5, 9..=16)
        .watched("alice", 1, 1..=7, 10.0)
        .watched("alice", 2, 1..=13, 7.0)
        .watched("alice", 3, 1..=5, 6.0)
        .watched("alice", 5, 1..=2, 1.0)
}

/// Sizes of a generated library, for the benchmark and request-budget tests.
#[derive(Debug, Clone, Copy)]
pub struct SyntheticSpec {
    pub movies: usize,
    pub episodes: usize,
    pub users: usize,
    /// Share of items watched, 0..=1.
    pub watched_share: f64,
    pub seed: u64,
}

impl World {
    /// A believable small library for `shelflife demo`.
    pub fn demo(now: Timestamp) -> World {
        World::new(now)
            .user("alice")
            .user("bob")
            .movie(
                MovieSpec::new("The Matrix", 1999)
                    .size_gb(8.1)
                    .watched("alice", 12.0),
            )
            .movie(
                MovieSpec::new("Heat", 1995)
                    .size_gb(11.2)
                    .watched("alice", 30.0)
                    .tag("keep"),
            )
            .movie(
                MovieSpec::new("Arrival", 2016)
                    .size_gb(6.4)
                    .watched("bob", 2.0),
            )
            .movie(
                MovieSpec::new("Amélie", 2001)
                    .size_gb(5.0)
                    .watched("alice", 40.0)
                    .favorite("alice"),
            )
            .movie(MovieSpec::new("Dune", 2021).size_gb(14.8))
            .movie(
                MovieSpec::new("Paddington 2", 2017)
                    .size_gb(4.2)
                    .watched("bob", 20.0)
                    .playing("bob"),
            )
            .movie(
                MovieSpec::new("Alien", 1979)
                    .size_gb(7.7)
                    .watched("alice", 9.0)
                    .watched("bob", 8.0),
            )
            .movie(
                MovieSpec::new("Holiday 2019", 2019)
                    .size_gb(2.1)
                    .watched("alice", 60.0)
                    .not_in_radarr(),
            )
            .series(breaking_bad_spec())
            .series(
                SeriesSpec::new("Chernobyl", true)
                    .season(1, 5)
                    .watched("bob", 1, 1..=5, 21.0),
            )
            .series(
                SeriesSpec::new("Severance", false)
                    .season(1, 9)
                    .season(2, 10)
                    .unaired(2, 8..=10)
                    .watched("alice", 1, 1..=9, 15.0)
                    .watched("alice", 2, 1..=7, 1.0),
            )
    }

    /// The seeds' example: a continuing series, S1 watched 10 days ago, S2 7 days ago, S3 5 of 13
    /// watched 6 days ago, S4 untouched, S5 airing (8 aired with files, 2 watched a day ago).
    pub fn breaking_bad(now: Timestamp) -> World {
        World::new(now).user("alice").series(breaking_bad_spec())
    }

    /// A deterministic large library: `movies` movies, `episodes` episodes in series of 5 seasons
    /// of 10 episodes (the last series may be shorter), about `watched_share` of everything
    /// watched by every user, 30 days ago.
    pub fn synthetic(now: Timestamp, spec: SyntheticSpec) -> World {
        let mut rng = fastrand::Rng::with_seed(spec.seed);
        let mut world = World::new(now);
        for u in 0..spec.users.max(1) {
            world = world.user(&format!("user{u}"));
        }
        let users: Vec<String> = world.users.iter().map(|u| u.name.clone()).collect();
        for m in 0..spec.movies {
            let mut movie = MovieSpec::new(&format!("Movie {m}"), 1950 + (m % 75) as i32)
                .size_gb(1.0 + rng.f64() * 10.0);
            if rng.f64() < spec.watched_share {
                for u in &users {
                    movie = movie.watched(u, 30.0);
                }
            }
            world = world.movie(movie);
        }
        let mut left = spec.episodes;
        let mut n = 0;
        while left > 0 {
            let count = left.min(50);
            left -= count;
            let mut series = SeriesSpec::new(&format!("Show {n}"), n % 2 == 0);
            let mut e = count as i32;
            let mut season = 1;
            while e > 0 {
                let in_season = e.min(10);
                series = series.season(season, in_season);
                if rng.f64() < spec.watched_share {
                    for u in &users {
                        series = series.watched(u, season, 1..=in_season, 30.0);
                    }
                }
                e -= in_season;
                season += 1;
            }
            world = world.series(series);
            n += 1;
        }
        world
    }
}
