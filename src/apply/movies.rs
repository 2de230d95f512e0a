//! Deleting a movie through Radarr, and finding out whether it went when no answer came.

use super::{settle, Outcome, Stop};
use crate::clients::radarr::RadarrClient;

/// Deletes a movie with its files. A DELETE is never sent twice: when no clear answer came, the
/// movie is looked up, and a movie that is gone was deleted (Radarr drops the record at once and
/// the files a moment later).
pub(super) async fn delete_movie(
    radarr: &RadarrClient,
    movie_id: i32,
    add_import_exclusion: bool,
) -> Result<Outcome, Stop> {
    let err = match radarr.delete_movie(movie_id, add_import_exclusion).await {
        Ok(()) => return Ok(Outcome::Deleted),
        Err(err) if !err.outcome_unknown() => return settle(Err(err)),
        Err(err) => err,
    };
    match radarr.movie(movie_id).await {
        Ok(None) => Ok(Outcome::Deleted),
        // The server answered (a 5xx): the request is over, and did not delete the movie.
        Ok(Some(_)) if err.status().is_some() => Ok(Outcome::Failed(err.to_string())),
        Ok(Some(_)) => Ok(Outcome::InDoubt(format!(
            "{err}; the movie was still there right after, and the deletion may still land"
        ))),
        Err(lookup) => Ok(Outcome::InDoubt(format!(
            "{err}; whether it went through cannot be told now: {lookup}"
        ))),
    }
}
