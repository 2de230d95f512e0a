//! What the simulated Radarr and Sonarr share: tags, root folders, health, status, dates.

use jiff::Timestamp;
use serde_json::{json, Value};

use super::server::{ok, Answer};
use super::world::{FileMedia, RootFolder};

pub(super) fn tags_json(tags: &[(i32, String)]) -> Answer {
    ok(Value::Array(
        tags.iter()
            .map(|(id, label)| json!({"id": id, "label": label}))
            .collect(),
    ))
}

pub(super) fn root_folders_json(folders: &[RootFolder]) -> Answer {
    ok(Value::Array(
        folders
            .iter()
            .map(|r| {
                json!({"id": r.id, "path": r.path, "accessible": r.accessible,
                    "freeSpace": 1_000_000_000_000_i64, "unmappedFolders": []})
            })
            .collect(),
    ))
}

pub(super) fn health_json(folders: &[RootFolder]) -> Answer {
    ok(Value::Array(
        folders
            .iter()
            .filter(|r| !r.accessible)
            .map(|r| {
                json!({"source": "RootFolderCheck", "type": "error",
                    "message": format!("Missing root folder: {}", r.path),
                    "wikiUrl": "https://wiki.servarr.com/"})
            })
            .collect(),
    ))
}

pub(super) fn status_json(app: &str) -> Answer {
    ok(
        json!({"appName": app, "instanceName": app, "version": "4.0.19.2802",
        "isDocker": false, "urlBase": "", "branch": "main"}),
    )
}

pub(super) fn root_of<'a>(folders: &'a [RootFolder], path: &str) -> Option<&'a RootFolder> {
    folders.iter().find(|r| {
        path.strip_prefix(r.path.trim_end_matches('/'))
            .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// The numeric id at the end of `/api/v3/<what>/<id>`.
pub(super) fn tail_id(path: &str, prefix: &str) -> Option<i32> {
    path.strip_prefix(prefix)?.parse().ok()
}

/// The *arrs write dates without a fraction.
pub(super) fn arr_date(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `QualityModel` of a file record: the quality with its revision.
#[derive(serde::Serialize)]
pub(super) struct QualityModelOut<'a> {
    quality: QualityOut<'a>,
    revision: RevisionOut,
}

/// `Quality`: Radarr's has a `modifier`, Sonarr's does not.
#[derive(serde::Serialize)]
struct QualityOut<'a> {
    id: i32,
    name: &'a str,
    source: &'static str,
    resolution: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    modifier: Option<&'static str>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct RevisionOut {
    version: i32,
    real: i32,
    is_repack: bool,
}

/// `MediaInfoResource`, every field the spec lists but its `id`.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct MediaInfoOut<'a> {
    audio_bitrate: i64,
    audio_channels: f64,
    audio_codec: &'a str,
    audio_languages: &'static str,
    audio_stream_count: i32,
    video_bit_depth: i32,
    video_bitrate: i64,
    video_codec: &'a str,
    video_fps: f64,
    video_dynamic_range: &'static str,
    video_dynamic_range_type: &'static str,
    resolution: &'a str,
    run_time: &'static str,
    scan_type: &'static str,
    subtitles: &'static str,
}

/// The id the *arrs' quality tables give a quality name (0, `Unknown`, for the others).
fn quality_id(name: &str) -> i32 {
    match name {
        "SDTV" => 1,
        "DVD" => 2,
        "WEBDL-1080p" => 3,
        "HDTV-720p" => 4,
        "WEBDL-720p" => 5,
        "Bluray-720p" => 6,
        "Bluray-1080p" => 7,
        "HDTV-1080p" => 9,
        "WEBRip-1080p" => 15,
        "HDTV-2160p" => 16,
        "WEBDL-2160p" => 18,
        "Bluray-2160p" => 19,
        "Remux-1080p" | "Bluray-1080p Remux" => 20,
        "Remux-2160p" | "Bluray-2160p Remux" => 21,
        _ => 0,
    }
}

/// The `quality` of a file with `media`, as Radarr (`radarr`) or Sonarr writes it.
pub(super) fn quality_out(media: &FileMedia, radarr: bool) -> QualityModelOut<'_> {
    QualityModelOut {
        quality: QualityOut {
            id: quality_id(&media.quality),
            name: &media.quality,
            source: media.source(radarr),
            resolution: media.resolution,
            modifier: radarr.then(|| media.modifier()),
        },
        revision: RevisionOut {
            version: 1,
            real: 0,
            is_repack: false,
        },
    }
}

/// The `mediaInfo` of a file with `media`.
pub(super) fn media_info_out(media: &FileMedia) -> MediaInfoOut<'_> {
    MediaInfoOut {
        audio_bitrate: 0,
        audio_channels: media.audio_channels,
        audio_codec: &media.audio_codec,
        audio_languages: "eng",
        audio_stream_count: 1,
        video_bit_depth: if media.resolution >= 2160 { 10 } else { 8 },
        video_bitrate: 0,
        video_codec: &media.video_codec,
        video_fps: 23.976,
        video_dynamic_range: if media.resolution >= 2160 { "HDR" } else { "" },
        video_dynamic_range_type: if media.resolution >= 2160 {
            "HDR10"
        } else {
            ""
        },
        resolution: &media.video_resolution,
        run_time: "1:00:00",
        scan_type: "Progressive",
        subtitles: "eng",
    }
}
