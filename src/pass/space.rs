//! The pass's side of the space policy: which deletions lie on a `space_mode = "when_low"`
//! mount, and how many hard links their files have (seen where the *arr's path is a path on
//! this host), before `policy::space` keeps what the mount does not need to give up.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use crate::health::probe;
use crate::library::Library;
use crate::plan::{Plan, Target, Verdict};
use crate::policy::space::{self, Candidate};
use crate::policy::SpacePressure;

/// Limits `plan`'s deletions on the `when_low` mounts of `pressure` to what they need.
pub(super) async fn limit(
    plan: &mut Plan,
    library: &Library,
    pressure: &SpacePressure,
    timeout: Duration,
) {
    if pressure.mounts.iter().all(|m| m.target_bytes.is_none()) {
        return;
    }
    let files = Files::index(library);
    let mut candidates = Vec::new();
    let mut paths: Vec<Vec<&str>> = Vec::new();
    let mut elsewhere = 0;
    for (i, d) in plan.decisions.iter().enumerate() {
        if d.verdict != Verdict::Delete {
            continue;
        }
        let of = files.deleted_by(&d.target);
        let Some(mount) = of
            .first()
            .and_then(|p| pressure.mount_of(p))
            .filter(|&m| pressure.mounts[m].target_bytes.is_some())
        else {
            elsewhere += 1;
            continue;
        };
        candidates.push(Candidate {
            decision: i,
            mount,
            links: None,
        });
        paths.push(of);
    }
    let all: Vec<&Path> = paths.iter().flatten().map(Path::new).collect();
    match probe::links(&all, timeout).await {
        Ok(counts) => {
            let mut counts = counts.into_iter();
            for (c, of) in candidates.iter_mut().zip(&paths) {
                c.links = counts.by_ref().take(of.len()).flatten().max();
            }
        }
        // The deletes themselves are measured: one that frees nothing stops the rest.
        Err(err) => tracing::warn!("cannot count the hard links of the files to delete: {err}"),
    }
    space::limit(plan, pressure, &candidates);
    plan.space_elsewhere = elsewhere;
}

/// The file paths of the library's movies and episode files, by instance and id.
struct Files<'l> {
    movies: HashMap<(&'l str, i32), &'l str>,
    episode_files: HashMap<(&'l str, i32, i32), &'l str>,
}

impl<'l> Files<'l> {
    fn index(library: &'l Library) -> Self {
        let movies = (library.movies.iter())
            .filter_map(|m| Some(((&*m.instance, m.radarr_id), &*m.file.as_ref()?.path)))
            .collect();
        let mut episode_files = HashMap::new();
        for s in &library.series {
            for season in &s.seasons {
                for f in season.episodes.iter().filter_map(|e| e.file.as_ref()) {
                    episode_files.insert((&*s.instance, s.sonarr_id, f.id), &*f.path);
                }
            }
        }
        Files {
            movies,
            episode_files,
        }
    }

    /// The paths of what `target` deletes (as the *arr sees them).
    fn deleted_by(&self, target: &Target) -> Vec<&'l str> {
        match target {
            Target::Radarr { instance, movie_id } => self
                .movies
                .get(&(&**instance, *movie_id))
                .copied()
                .into_iter()
                .collect(),
            Target::Sonarr {
                instance,
                series_id,
                episode_file_ids,
                ..
            } => episode_file_ids
                .iter()
                .filter_map(|f| {
                    self.episode_files
                        .get(&(&**instance, *series_id, *f))
                        .copied()
                })
                .collect(),
        }
    }
}
