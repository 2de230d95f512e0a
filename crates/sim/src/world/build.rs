//! Turning specs into items: ids, Jellyfin guids, folders, files, tags, watches and sessions.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use super::spec::{MovieSpec, SeriesSpec, WatchSpec};
use super::{
    guid, Episode, EpisodeFile, Movie, MovieFile, Season, Series, Session, User, Watch, World,
    MOVIES_ROOT, TV_ROOT,
};

impl World {
    pub fn user(self, name: &str) -> Self {
        self.add_user(name, true)
    }

    /// A Jellyfin user whose views shelflife does not count (not in the config's `users`):
    /// someone who requests in Seerr, say.
    pub fn guest(self, name: &str) -> Self {
        self.add_user(name, false)
    }

    fn add_user(mut self, name: &str, counted: bool) -> Self {
        let n = self.users.len() as i32 + 1;
        self.users.push(User {
            id: guid(n, 0xaa),
            name: name.to_string(),
            counted,
        });
        self
    }

    /// The Jellyfin id of user `name`.
    pub fn user_id(&self, name: &str) -> Option<String> {
        (self.users.iter())
            .find(|u| u.name == name)
            .map(|u| u.id.clone())
    }

    /// Jellyfin sees `arr_prefix/…` as `jellyfin_prefix/…` (a container mount).
    pub fn jellyfin_sees(mut self, arr_prefix: &str, jellyfin_prefix: &str) -> Self {
        self.jellyfin_prefix
            .push((arr_prefix.to_string(), jellyfin_prefix.to_string()));
        self
    }

    pub(super) fn ago(&self, days: f64) -> Timestamp {
        let secs = (days * 86_400.0).round() as i64;
        self.now
            .checked_sub(SignedDuration::from_secs(secs))
            .unwrap_or(self.now)
    }

    fn tag_id(tags: &mut Vec<(i32, String)>, label: &str) -> i32 {
        if let Some((id, _)) = tags.iter().find(|(_, l)| l == label) {
            return *id;
        }
        let id = tags.len() as i32 + 1;
        tags.push((id, label.to_string()));
        id
    }

    fn watches(&self, spec: &[(String, WatchSpec)]) -> BTreeMap<String, Watch> {
        let mut out: BTreeMap<String, Watch> = BTreeMap::new();
        for (user, w) in spec {
            let entry = out.entry(user.clone()).or_default();
            match w {
                WatchSpec::Played(days) => {
                    entry.played = true;
                    entry.last_played = Some(self.ago(*days));
                }
                WatchSpec::PlayedUndated => entry.played = true,
                WatchSpec::Favorite => entry.favorite = true,
            }
        }
        out
    }

    pub fn movie(mut self, spec: MovieSpec) -> Self {
        let id = self.id();
        let root = spec.root.as_deref().unwrap_or(MOVIES_ROOT);
        let folder = format!("{root}/{} ({})", spec.title, spec.year);
        let file = spec.size.map(|size| MovieFile {
            id: self.id(),
            path: format!("{folder}/{} ({}).mkv", spec.title, spec.year),
            size,
            media: spec.media.clone(),
        });
        if let Some(f) = &file {
            self.files.insert(f.path.clone());
        }
        let tags = spec
            .tags
            .iter()
            .map(|t| Self::tag_id(&mut self.radarr_tags, t))
            .collect();
        let jellyfin_id = guid(id, 0x01);
        for user in &spec.playing {
            self.sessions.push(Session {
                user: user.clone(),
                item_id: jellyfin_id.clone(),
            });
        }
        let watch = self.watches(&spec.watch);
        self.movies.push(Movie {
            radarr_id: id,
            created: id,
            jellyfin_id,
            title: spec.title,
            year: spec.year,
            tmdb_id: spec.tmdb_id.unwrap_or(10_000 + id),
            imdb_id: Some(format!("tt{:07}", 100_000 + id)),
            path: folder,
            file,
            tags,
            monitored: true,
            in_radarr: spec.in_radarr,
            in_jellyfin: spec.in_jellyfin && spec.size.is_some(),
            jellyfin_has_ids: spec.jellyfin_has_ids,
            path_only_in_media_sources: spec.path_only_in_media_sources,
            watch,
        });
        self
    }

    pub fn series(mut self, spec: SeriesSpec) -> Self {
        let sid = self.id();
        let root = spec.root.as_deref().unwrap_or(TV_ROOT);
        let folder = format!("{root}/{}", spec.title);
        let tags = spec
            .tags
            .iter()
            .map(|t| Self::tag_id(&mut self.sonarr_tags, t))
            .collect();
        let mut series = Series {
            sonarr_id: sid,
            created: sid,
            jellyfin_id: guid(sid, 0x02),
            title: spec.title.clone(),
            tvdb_id: spec.tvdb_id.unwrap_or(70_000 + sid),
            status: if spec.ended { "ended" } else { "continuing" }.to_string(),
            path: folder.clone(),
            tags,
            in_sonarr: spec.in_sonarr,
            in_jellyfin: spec.in_jellyfin,
            watch: self.watches(&spec.favorite),
            seasons: Vec::new(),
            episodes: Vec::new(),
            files: Vec::new(),
        };
        for s in &spec.seasons {
            let season_id = self.id();
            let season_favs: Vec<(String, WatchSpec)> = spec
                .season_favorites
                .iter()
                .filter(|(_, n)| *n == s.number)
                .map(|(u, _)| (u.clone(), WatchSpec::Favorite))
                .collect();
            series.seasons.push(Season {
                number: s.number,
                created: season_id,
                monitored: true,
                jellyfin_id: guid(season_id, 0x03),
                watch: self.watches(&season_favs),
            });
            for e in 1..=s.episodes {
                let eid = self.id();
                let unaired = spec
                    .unaired
                    .iter()
                    .any(|(n, r)| *n == s.number && r.contains(&e));
                let no_file = unaired
                    || spec
                        .no_file
                        .iter()
                        .any(|(n, r)| *n == s.number && r.contains(&e));
                let file_id = if no_file {
                    0
                } else {
                    let fid = self.id();
                    let relative = format!(
                        "Season {:02}/{} - S{:02}E{:02}.mkv",
                        s.number, spec.title, s.number, e
                    );
                    let path = format!("{folder}/{relative}");
                    self.files.insert(path.clone());
                    series.files.push(EpisodeFile {
                        id: fid,
                        season: s.number,
                        path,
                        relative_path: relative,
                        size: spec.episode_size,
                        media: spec.media.clone(),
                    });
                    fid
                };
                let watch_spec: Vec<(String, WatchSpec)> = spec
                    .watched
                    .iter()
                    .filter(|w| w.season == s.number && w.episodes.contains(&e))
                    .map(|w| (w.user.clone(), w.how))
                    .collect();
                let jellyfin_id = guid(eid, 0x04);
                if spec
                    .playing
                    .iter()
                    .any(|(_, n, ep)| *n == s.number && *ep == e)
                {
                    for (user, _, _) in spec
                        .playing
                        .iter()
                        .filter(|(_, n, ep)| *n == s.number && *ep == e)
                    {
                        self.sessions.push(Session {
                            user: user.clone(),
                            item_id: jellyfin_id.clone(),
                        });
                    }
                }
                let air_date = (!unaired && s.number > 0).then(|| {
                    let aired = self.ago(400.0 - f64::from(s.number * 30 + e));
                    aired.strftime("%Y-%m-%d").to_string()
                });
                series.episodes.push(Episode {
                    sonarr_id: eid,
                    created: eid,
                    jellyfin_id,
                    season: s.number,
                    number: e,
                    title: format!("Episode {e}"),
                    tvdb_id: 900_000 + eid,
                    air_date,
                    monitored: true,
                    file_id,
                    in_jellyfin: spec.in_jellyfin && file_id != 0,
                    path_only_in_media_sources: spec
                        .path_only_in_media_sources
                        .contains(&(s.number, e)),
                    watch: self.watches(&watch_spec),
                });
            }
        }
        self.series.push(series);
        self
    }

    /// A Radarr root folder that Radarr cannot reach (its storage is gone).
    pub fn radarr_root_inaccessible(mut self) -> Self {
        for r in &mut self.radarr_root_folders {
            r.accessible = false;
        }
        self
    }

    /// A Sonarr root folder that Sonarr cannot reach (its storage is gone).
    pub fn sonarr_root_inaccessible(mut self) -> Self {
        for r in &mut self.sonarr_root_folders {
            r.accessible = false;
        }
        self
    }
}
