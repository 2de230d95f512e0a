//! Days of passes against one simulated stack: a [`Days`] drives time through the clock a pass
//! takes (`Pass::run(mode, now, …)`) and the simulated servers' own (`World::now`); day `n` is
//! `n` × 24 hours after the world's `now`. For the notice period and its notifications.

use jiff::{SignedDuration, Timestamp};
use shelflife::apply::Mode;
use shelflife::config::{Config, Env};
use shelflife::outcome::RunOutcome;
use shelflife::pass::Pass;
use shelflife::plan::Reason;
use shelflife::state::{NoticeState, State};
use shelflife_sim::{MovieSpec, Recorded, Service, SimStack, World};

pub const COLLECTION: &str = "Leaving Soon";

/// A stack, a pass over it and its state file, at day 0 of the test's own calendar.
pub struct Days {
    pub stack: SimStack,
    pub dir: tempfile::TempDir,
    pub pass: Pass,
    pub state: State,
    pub start: Timestamp,
}

/// No test may see shelflife ask Seerr to delete files (`/media/{id}/file`): checked as each
/// test's days end, unless the test failed already.
impl Drop for Days {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let violations = self.stack.seerr_violations();
            assert!(violations.is_empty(), "Seerr was asked: {violations:?}");
        }
    }
}

impl Days {
    pub async fn start(world: World, extra: &str) -> Days {
        Days::start_with(world, |_| extra.to_owned()).await
    }

    /// The same, with the simulated Seerr configured; `seerr_keys` go in its `[seerr]` table.
    pub async fn start_with_seerr(world: World, seerr_keys: &str) -> Days {
        Days::start_with(world, |stack| {
            format!("{}{seerr_keys}\n", stack.seerr_toml())
        })
        .await
    }

    async fn start_with(world: World, extra: impl FnOnce(&SimStack) -> String) -> Days {
        let start = world.now;
        let stack = SimStack::start(world)
            .await
            .expect("simulated stack starts");
        let dir = tempfile::tempdir().expect("tempdir");
        let state_path = dir.path().join("state.db");
        let text = format!(
            "{}\n[state]\npath = {:?}\n",
            stack.config_toml(&extra(&stack)),
            state_path.display().to_string()
        );
        std::fs::write(dir.path().join("config.toml"), &text).expect("write config");
        let (pass, state) = Days::open(dir.path());
        Days {
            stack,
            dir,
            pass,
            state,
            start,
        }
    }

    /// A pass and the state file from the files in `dir`, as a new process would have them.
    fn open(dir: &std::path::Path) -> (Pass, State) {
        let path = dir.join("config.toml");
        let text = std::fs::read_to_string(&path).expect("read config");
        let config: Config = Config::parse(&text, &path, &Env::default())
            .expect("config")
            .config;
        let pass = Pass::new(config).expect("pass");
        let state = State::open(&dir.join("state.db")).expect("state");
        (pass, state)
    }

    /// Starts over from the files, as after a reboot.
    pub fn restart(&mut self) {
        (self.pass, self.state) = Days::open(self.dir.path());
    }

    pub fn at(&self, day: i64) -> Timestamp {
        self.start + SignedDuration::from_hours(24 * day)
    }

    /// A live pass on `day`, the servers' clock set to it first.
    pub async fn live(&mut self, day: i64) -> RunOutcome {
        let now = self.at(day);
        self.stack.with_world(|w| w.now = now);
        self.pass
            .run(Mode::Live, now, &mut self.state)
            .await
            .expect("the pass runs")
    }

    pub fn id_of(&self, title: &str) -> String {
        self.stack
            .with_world(|w| w.find_movie(title).expect(title).jellyfin_id.clone())
    }

    /// The Jellyfin ids the collection holds now (empty when it does not exist).
    pub fn collection(&self) -> Vec<String> {
        self.stack.with_world(|w| {
            w.find_collection(COLLECTION)
                .map(|c| {
                    c.items
                        .iter()
                        .map(|i| i.replace('-', "").to_lowercase())
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    pub fn in_collection(&self, title: &str) -> bool {
        self.collection().contains(&self.id_of(title))
    }

    pub fn movie_exists(&self, title: &str) -> bool {
        // Radarr drops the record when it answers, and the files a moment later.
        self.stack
            .with_world(|w| w.find_movie(title).is_some_and(|m| m.in_radarr))
    }

    /// The titles on the schedule, in any state but kept.
    pub fn scheduled(&self) -> Vec<String> {
        let mut titles: Vec<String> = (self.state.notices().expect("notices").into_iter())
            .filter(|r| r.state != NoticeState::Kept)
            .map(|r| r.title)
            .collect();
        titles.sort();
        for t in &mut titles {
            // "Alien (1990)" → "Alien"
            if let Some((name, _)) = t.split_once(" (") {
                *t = name.to_owned();
            }
        }
        titles
    }

    pub fn favourite(&self, title: &str) {
        self.stack.with_world(|w| {
            let movie = w.movies.iter_mut().find(|m| m.title == title).expect(title);
            movie.watch.entry("alice".to_owned()).or_default().favorite = true;
        });
    }

    /// Takes `title` out of the collection, as someone in the household would in Jellyfin.
    pub fn take_out_by_hand(&self, title: &str) {
        let id = self.id_of(title);
        self.stack.with_world(|w| {
            let c = (w.collections.iter_mut())
                .find(|c| c.name == COLLECTION)
                .expect("the collection exists");
            c.items.retain(|i| i.replace('-', "").to_lowercase() != id);
        });
    }

    pub fn writes(&self, service: Service) -> Vec<Recorded> {
        (self.stack.writes().into_iter())
            .filter(|(s, _)| *s == service)
            .map(|(_, r)| r)
            .collect()
    }

    pub fn radarr_deletes(&self) -> usize {
        self.writes(Service::Radarr)
            .iter()
            .filter(|r| r.method == "DELETE")
            .count()
    }

    /// The output of `shelflife <args>` against this stack and state file: what people read.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = super::shelflife(&self.dir.path().join("config.toml"), args)
            .output()
            .expect("the binary runs");
        assert!(
            out.status.success(),
            "shelflife {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// Movies with these titles, each watched by alice 20 days before now.
pub fn movies(titles: &[&str]) -> World {
    (titles.iter().enumerate()).fold(World::new(Timestamp::now()).user("alice"), |w, (i, t)| {
        w.movie(MovieSpec::new(t, 1990 + i as i32).watched("alice", 20.0))
    })
}

/// The reason of the decision about `title`.
pub fn reason_of(outcome: &RunOutcome, title: &str) -> Reason {
    (outcome.plan.decisions.iter())
        .find(|d| d.title.to_string().contains(title))
        .unwrap_or_else(|| panic!("{title} is in the plan"))
        .reason
        .clone()
}
