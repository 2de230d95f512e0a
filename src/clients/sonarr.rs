//! Sonarr v3 API (Sonarr v3 and v4 apps): series, episodes with their files, unmonitoring
//! episodes and deleting episode files. Tags, root folders and health are [`ArrClient`]'s, shared
//! with Radarr.
//!
//! Sonarr writes camelCase JSON, omits nulls and does not page its lists. `GET /episode` embeds
//! `episodeFile` only when asked with `includeEpisodeFile=true`, and the Sonarr v3 app ignores
//! that flag; [`SonarrClient::episodes`] then fetches the series' files in one more request.

use std::collections::HashMap;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::arr::{Arr, ArrClient};
use super::http::{ApiError, Class, Endpoint, Grouped, Malformed, Service};
use super::media::{object, MediaInfo, QualityModel};

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeasonInfo {
    pub season_number: i32,
    #[serde(default)]
    pub monitored: bool,
    #[serde(default)]
    pub statistics: Option<SeasonStatistics>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeasonStatistics {
    /// Every episode of the season, aired or not, with a file or not.
    #[serde(default)]
    pub total_episode_count: i32,
}

/// `SeriesResource`, reduced to what inventory needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Series {
    pub id: i32,
    #[serde(default)]
    pub title: Option<String>,
    /// `continuing`, `ended`, `upcoming`, `deleted`.
    #[serde(default)]
    pub status: Option<String>,
    /// 0 when unknown.
    #[serde(default)]
    pub tvdb_id: Option<i32>,
    /// The series folder.
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub tags: Vec<i32>,
    /// Sonarr searches only for the monitored episodes of a monitored series.
    #[serde(default)]
    pub monitored: bool,
    #[serde(default)]
    pub seasons: Vec<SeasonInfo>,
}

/// `EpisodeFileResource`, reduced.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EpisodeFile {
    pub id: i32,
    #[serde(default)]
    pub series_id: i32,
    #[serde(default)]
    pub season_number: i32,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub size: Option<i64>,
    /// The quality it was grabbed in: what `history` says was lost.
    #[serde(default, deserialize_with = "object")]
    pub quality: Option<QualityModel>,
    /// Its main audio track and video size, when Sonarr scanned it.
    #[serde(default, deserialize_with = "object")]
    pub media_info: Option<MediaInfo>,
}

/// `EpisodeResource`, reduced.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Episode {
    pub id: i32,
    #[serde(default)]
    pub series_id: i32,
    #[serde(default)]
    pub season_number: i32,
    #[serde(default)]
    pub episode_number: i32,
    /// 0 = no file.
    #[serde(default)]
    pub episode_file_id: i32,
    #[serde(default)]
    pub monitored: bool,
    /// When it aired or airs, as Sonarr wrote it. Text, read only by [`wants_file`]: a date in
    /// an odd shape must not make the whole record unreadable for a pass.
    #[serde(default)]
    pub air_date_utc: Option<String>,
    /// Filled in by [`SonarrClient::episodes`] whenever `episode_file_id > 0` and Sonarr knows
    /// the file.
    #[serde(default)]
    pub episode_file: Option<EpisodeFile>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MonitorBody<'a> {
    episode_ids: &'a [i32],
    monitored: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BulkDeleteBody<'a> {
    episode_file_ids: &'a [i32],
}

/// The episodes of one series as Sonarr listed them.
#[derive(Debug, Default)]
pub struct SeriesEpisodes {
    pub episodes: Vec<Episode>,
    /// Episodes that could not be read.
    pub malformed: Vec<Malformed>,
}

/// The calendar's window: wide enough for every air date there is.
const CALENDAR_START: &str = "1900-01-01T00:00:00Z";
const CALENDAR_END: &str = "2200-01-01T00:00:00Z";

/// Sonarr, as the kind of an [`ArrClient`].
#[derive(Debug)]
pub enum Sonarr {}

impl Arr for Sonarr {
    const SERVICE: Service = Service::Sonarr;
}

/// Typed Sonarr client. Cheap to clone.
pub type SonarrClient = ArrClient<Sonarr>;

impl ArrClient<Sonarr> {
    /// `GET /api/v3/series`.
    pub async fn series(&self) -> Result<Vec<Series>, ApiError> {
        self.api.get_list("/api/v3/series", &[]).await
    }

    /// Every episode that has an air date, in every series, monitored or not, with its file:
    /// `GET /api/v3/calendar?start=…&end=…&unmonitored=true&includeEpisodeFile=true`. One request
    /// for the whole library; episodes without an air date (most specials, announced ones) are
    /// not in it. The answer is read as it arrives, and each episode is at once handed to
    /// `keep`, which gives the value to keep for it (or `None`); the values are sorted by series
    /// id and season number as they come. On a large library the answer is tens of megabytes.
    /// Episodes that cannot be read come back apart: the caller leaves their series alone.
    pub async fn aired_episodes<V: Send>(
        &self,
        mut keep: impl FnMut(Episode) -> Option<V> + Send,
    ) -> Result<Grouped<(i32, i32), V>, ApiError> {
        let query = [
            ("start", CALENDAR_START.to_owned()),
            ("end", CALENDAR_END.to_owned()),
            ("unmonitored", "true".to_owned()),
            ("includeEpisodeFile", "true".to_owned()),
        ];
        self.api
            .get_grouped("/api/v3/calendar", &query, move |e: Episode| {
                let season = (e.series_id, e.season_number);
                Some((season, keep(e)?))
            })
            .await
    }

    /// Every episode of a series with its file: `GET /api/v3/episode?seriesId=&includeEpisodeFile=true`,
    /// and, when Sonarr left the files out (the v3 app ignores the flag),
    /// `GET /api/v3/episodefile?seriesId=` joined on `episodeFileId`. One or two requests.
    /// Episodes that cannot be read come back apart: the series is then not known whole.
    pub async fn episodes(&self, series_id: i32) -> Result<SeriesEpisodes, ApiError> {
        let query = [
            ("seriesId", series_id.to_string()),
            ("includeEpisodeFile", "true".to_owned()),
        ];
        let listed = self
            .api
            .get_grouped("/api/v3/episode", &query, |e: Episode| Some(((), e)))
            .await?;
        let Grouped {
            mut groups,
            malformed,
        } = listed;
        let mut episodes = groups.remove(&()).unwrap_or_default();
        if episodes.iter().any(needs_file) {
            // A series gone meanwhile has no files to attach; its episodes keep none.
            let files = self
                .episode_files_of_series(series_id)
                .await?
                .unwrap_or_default();
            attach_files(&mut episodes, files);
        }
        Ok(SeriesEpisodes {
            episodes,
            malformed,
        })
    }

    /// `GET /api/v3/episodefile?seriesId=`: every file of the series; `None` when Sonarr no
    /// longer knows the series (404). This is how to ask which files still exist: Sonarr's
    /// `episodeFileIds=` form answers 500 when a single id is gone.
    pub async fn episode_files_of_series(
        &self,
        series_id: i32,
    ) -> Result<Option<Vec<EpisodeFile>>, ApiError> {
        let query = [("seriesId", series_id.to_string())];
        self.get_known("/api/v3/episodefile", &query, Class::List)
            .await
    }

    /// The file each episode of a series has now (0 = none), by episode id:
    /// `GET /api/v3/episode?seriesId=` without the files. A series Sonarr no longer knows has
    /// no episodes. How to tell whether a deletion happened: an episode whose file is gone has
    /// `episodeFileId` 0, one whose file was replaced has another id.
    pub async fn file_of_each_episode(
        &self,
        series_id: i32,
    ) -> Result<HashMap<i32, i32>, ApiError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct EpisodeFileRef {
            id: i32,
            #[serde(default)]
            episode_file_id: i32,
        }
        let listed = self
            .api
            .get_grouped(
                "/api/v3/episode",
                &[("seriesId", series_id.to_string())],
                |e: EpisodeFileRef| Some(((), (e.id, e.episode_file_id))),
            )
            .await?;
        if let Some(m) = listed.malformed.first() {
            // An episode that cannot be read could be the one asked about.
            return Err(ApiError::Protocol {
                service: self.api.server(),
                endpoint: Endpoint {
                    method: Method::GET,
                    path: "/api/v3/episode".to_owned(),
                },
                status: reqwest::StatusCode::OK,
                snippet: m.snippet(),
                source: <serde_json::Error as serde::de::Error>::custom(&m.error),
            });
        }
        Ok(listed.groups.into_values().flatten().collect())
    }

    /// `GET /api/v3/episodefile/{id}`; `None` when Sonarr does not know the file (404).
    pub async fn episode_file(&self, id: i32) -> Result<Option<EpisodeFile>, ApiError> {
        self.get_known(&format!("/api/v3/episodefile/{id}"), &[], Class::Small)
            .await
    }

    /// `PUT /api/v3/episode/monitor {episodeIds, monitored}`. Sonarr answers 202 with the
    /// episodes; any 2xx counts, the body is not read. An empty list sends nothing.
    ///
    /// Sonarr reads the ids back through `Get(ids)`: with one unknown id among several it
    /// updates the known ones and then answers 500; a single unknown id is a 404.
    pub async fn set_episodes_monitored(
        &self,
        ids: &[i32],
        monitored: bool,
    ) -> Result<(), ApiError> {
        if ids.is_empty() {
            return Ok(());
        }
        let body = MonitorBody {
            episode_ids: ids,
            monitored,
        };
        self.write(Method::PUT, "/api/v3/episode/monitor", &[], Some(&body))
            .await
    }

    /// `DELETE /api/v3/episodefile/bulk {episodeFileIds}`.
    ///
    /// **The caller guarantees that all ids belong to one series.** Sonarr resolves the series
    /// from the first file only and joins every file's relative path onto that series' folder: a
    /// file of another series is dropped from Sonarr's database and left on disk.
    /// An empty list is an [`ApiError::NotSent`] and sends nothing (Sonarr answers it with 500).
    /// One id Sonarr no longer knows (a file replaced by an upgrade) makes it answer 500 and
    /// delete nothing (`Get(ids)` throws).
    pub async fn delete_episode_files(&self, ids: &[i32]) -> Result<(), ApiError> {
        const PATH: &str = "/api/v3/episodefile/bulk";
        if ids.is_empty() {
            return Err(ApiError::NotSent {
                service: self.api.server(),
                endpoint: Endpoint {
                    method: Method::DELETE,
                    path: PATH.to_owned(),
                },
                reason: "the list of episode files to delete is empty",
            });
        }
        let body = BulkDeleteBody {
            episode_file_ids: ids,
        };
        self.write(Method::DELETE, PATH, &[], Some(&body)).await
    }

    /// `DELETE /api/v3/episodefile/{id}`.
    pub async fn delete_episode_file(&self, id: i32) -> Result<(), ApiError> {
        self.write(
            Method::DELETE,
            &format!("/api/v3/episodefile/{id}"),
            &[],
            None::<&()>,
        )
        .await
    }
}

/// True when Sonarr will look for a file for `e`: monitored, aired by `now`, without a file.
/// Whether its series is monitored is the caller's to check. An air date that cannot be read
/// counts as not aired.
pub fn wants_file(e: &Episode, now: jiff::Timestamp) -> bool {
    let aired = (e.air_date_utc.as_deref())
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .is_some_and(|t| t <= now);
    e.monitored && aired && e.episode_file_id == 0 && e.episode_file.is_none()
}

/// An episode that has a file Sonarr did not embed (the v3 app ignores `includeEpisodeFile`).
pub fn needs_file(e: &Episode) -> bool {
    e.episode_file_id > 0 && e.episode_file.is_none()
}

/// Give each episode that lacks its embedded file the file with its `episodeFileId`.
fn attach_files(episodes: &mut [Episode], files: Vec<EpisodeFile>) {
    let by_id: HashMap<i32, EpisodeFile> = files.into_iter().map(|f| (f.id, f)).collect();
    for e in episodes.iter_mut().filter(|e| needs_file(e)) {
        e.episode_file = by_id.get(&e.episode_file_id).cloned();
    }
}

#[cfg(test)]
mod tests;
