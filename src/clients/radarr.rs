//! Radarr v3 API: movies with their files, and deleting a movie. Tags, root folders and health
//! are [`ArrClient`]'s, shared with Sonarr.
//!
//! Radarr writes camelCase JSON, omits nulls (`movieFile` is absent when there is no file) and
//! does not page its lists, so each list is one request.

use reqwest::Method;
use serde::Deserialize;

use super::arr::{Arr, ArrClient};
use super::http::{ApiError, Class, Service};
use super::media::{object, MediaInfo, QualityModel};
use crate::library::QualityId;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MovieFile {
    pub id: i32,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub size: Option<i64>,
    /// The quality it was grabbed in: what `history` says was lost. Boxed, as is
    /// `media_info`: a pass takes both out as the list arrives (see [`MovieFile::interned`]),
    /// and the 10,000 movies of a large library then hold two words each for them.
    #[serde(default, deserialize_with = "object")]
    pub quality: Option<Box<QualityModel>>,
    /// Its main audio track and video size, when Radarr scanned it.
    #[serde(default, deserialize_with = "object")]
    pub media_info: Option<Box<MediaInfo>>,
    /// `quality` and `media_info` as the pass's quality table holds them, once taken out.
    #[serde(skip)]
    pub interned: Option<QualityId>,
}

/// `MovieResource`, reduced to what inventory needs.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Movie {
    pub id: i32,
    #[serde(default)]
    pub title: Option<String>,
    /// 0 when unknown.
    #[serde(default)]
    pub year: Option<i32>,
    /// 0 when unknown.
    #[serde(default)]
    pub tmdb_id: Option<i32>,
    #[serde(default)]
    pub imdb_id: Option<String>,
    /// The movie folder.
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub tags: Vec<i32>,
    /// Radarr searches for a monitored movie that has no file: `drift` reports those.
    #[serde(default)]
    pub monitored: bool,
    #[serde(default)]
    pub movie_file: Option<MovieFile>,
}

/// Radarr, as the kind of an [`ArrClient`].
#[derive(Debug)]
pub enum Radarr {}

impl Movie {
    /// True when Radarr will download this movie again: monitored, without a file.
    pub fn wants_file(&self) -> bool {
        self.monitored && self.movie_file.is_none()
    }
}

impl Arr for Radarr {
    const SERVICE: Service = Service::Radarr;
}

/// Typed Radarr client. Cheap to clone.
pub type RadarrClient = ArrClient<Radarr>;

impl ArrClient<Radarr> {
    /// `GET /api/v3/movie`: every movie, with its file when it has one.
    pub async fn movies(&self) -> Result<Vec<Movie>, ApiError> {
        self.api.get_list("/api/v3/movie", &[]).await
    }

    /// [`RadarrClient::movies`], each movie handed to `compact` as soon as it is read, and what
    /// that returns kept (a pass interns the file's quality and lets the record's copy go).
    pub async fn movies_with(
        &self,
        mut compact: impl FnMut(Movie) -> Movie + Send,
    ) -> Result<Vec<Movie>, ApiError> {
        (self.api)
            .get_mapped("/api/v3/movie", &[], move |m: Movie| Some(compact(m)))
            .await
    }

    /// `GET /api/v3/movie/{id}`; `None` when Radarr does not know the id (404).
    pub async fn movie(&self, id: i32) -> Result<Option<Movie>, ApiError> {
        self.get_known(&format!("/api/v3/movie/{id}"), &[], Class::Small)
            .await
    }

    /// `DELETE /api/v3/movie/{id}?deleteFiles=true&addImportExclusion=…`: removes the movie and
    /// its whole folder (Radarr does the file work asynchronously after answering).
    /// `add_import_exclusion` stops import lists from adding it again.
    pub async fn delete_movie(&self, id: i32, add_import_exclusion: bool) -> Result<(), ApiError> {
        let query = [
            ("deleteFiles", "true".to_owned()),
            ("addImportExclusion", add_import_exclusion.to_string()),
        ];
        self.write(
            Method::DELETE,
            &format!("/api/v3/movie/{id}"),
            &query,
            None::<&()>,
        )
        .await
    }
}

#[cfg(test)]
mod tests;
