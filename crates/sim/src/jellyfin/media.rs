//! An item's `MediaSources` (`MediaSourceInfo` with its `MediaStreams`), as Jellyfin 10.10 and
//! 10.11 send them when `fields` asks for them: one video, two audio and three subtitle
//! streams, several kilobytes an item. Typed, and built only when asked for, so that the large
//! libraries of the benchmark stay quick to serve.

/// A file as Jellyfin probed it.
pub(super) struct Probed<'w> {
    /// The item's id, which is also its only source's id.
    pub id: &'w str,
    pub path: String,
    pub size: u64,
    /// Movies run two hours, episodes 45 minutes.
    pub movie: bool,
}

/// 100 ns ticks per second.
const TICKS: i64 = 10_000_000;

const AUDIO_BITRATES: [i32; 2] = [640_000, 448_000];

/// `MediaSourceInfo`.
#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct MediaSourceOut<'w> {
    protocol: &'static str,
    id: &'w str,
    path: String,
    #[serde(rename = "Type")]
    kind: &'static str,
    container: &'static str,
    size: u64,
    name: String,
    is_remote: bool,
    #[serde(rename = "ETag")]
    etag: &'w str,
    run_time_ticks: i64,
    read_at_native_framerate: bool,
    ignore_dts: bool,
    ignore_index: bool,
    gen_pts_input: bool,
    supports_transcoding: bool,
    supports_direct_stream: bool,
    supports_direct_play: bool,
    is_infinite_stream: bool,
    use_most_compatible_transcoding_profile: bool,
    requires_opening: bool,
    requires_closing: bool,
    requires_looping: bool,
    supports_probing: bool,
    video_type: &'static str,
    media_streams: [MediaStreamOut; 6],
    media_attachments: [(); 0],
    formats: [(); 0],
    bitrate: i32,
    required_http_headers: Empty,
    transcoding_sub_protocol: &'static str,
    default_audio_stream_index: i32,
    default_subtitle_stream_index: i32,
    has_segments: bool,
}

/// `{}`.
struct Empty;

impl serde::Serialize for Empty {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        s.serialize_map(Some(0))?.end()
    }
}

/// `MediaStream`: nulls left out, as Jellyfin does.
#[derive(serde::Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct MediaStreamOut {
    codec: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    color_space: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    color_transfer: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    color_primaries: Option<&'static str>,
    time_base: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'static str>,
    video_range: &'static str,
    video_range_type: &'static str,
    audio_spatial_format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    localized_undefined: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    localized_default: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    localized_forced: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    localized_external: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    localized_hearing_impaired: Option<&'static str>,
    display_title: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    nal_length_size: Option<&'static str>,
    is_interlaced: bool,
    #[serde(rename = "IsAVC")]
    is_avc: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel_layout: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bit_rate: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bit_depth: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ref_frames: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    channels: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sample_rate: Option<i32>,
    is_default: bool,
    is_forced: bool,
    is_hearing_impaired: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    width: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    average_frame_rate: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    real_frame_rate: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference_frame_rate: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile: Option<&'static str>,
    #[serde(rename = "Type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    aspect_ratio: Option<&'static str>,
    index: i32,
    is_external: bool,
    is_text_subtitle_stream: bool,
    supports_external_stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pixel_format: Option<&'static str>,
    level: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_anamorphic: Option<bool>,
}

impl MediaStreamOut {
    /// What every audio and subtitle stream says of video it does not have.
    fn not_video(kind: &'static str, index: i32) -> MediaStreamOut {
        MediaStreamOut {
            kind,
            index,
            time_base: "1/1000",
            video_range: "Unknown",
            video_range_type: "Unknown",
            audio_spatial_format: "None",
            localized_default: Some("Default"),
            localized_external: Some("External"),
            ..MediaStreamOut::default()
        }
    }

    fn video(bit_rate: i32) -> MediaStreamOut {
        MediaStreamOut {
            codec: "hevc",
            color_space: Some("bt709"),
            color_transfer: Some("bt709"),
            color_primaries: Some("bt709"),
            time_base: "1/1000",
            video_range: "SDR",
            video_range_type: "SDR",
            audio_spatial_format: "None",
            display_title: "1080p HEVC SDR",
            nal_length_size: Some("4"),
            bit_rate: Some(bit_rate),
            bit_depth: Some(10),
            ref_frames: Some(1),
            is_default: true,
            height: Some(1080),
            width: Some(1920),
            average_frame_rate: Some(23.976_025),
            real_frame_rate: Some(23.976_025),
            reference_frame_rate: Some(23.976_025),
            profile: Some("Main 10"),
            kind: "Video",
            aspect_ratio: Some("16:9"),
            index: 0,
            pixel_format: Some("yuv420p10le"),
            level: 120,
            is_anamorphic: Some(false),
            ..MediaStreamOut::default()
        }
    }

    fn audio(index: i32) -> MediaStreamOut {
        let english = index == 1;
        MediaStreamOut {
            codec: if english { "eac3" } else { "ac3" },
            language: Some(if english { "eng" } else { "ger" }),
            title: Some(if english { "English" } else { "Deutsch" }),
            display_title: if english {
                "English - Dolby Digital+ - 5.1 - Default"
            } else {
                "Deutsch - Dolby Digital - 5.1"
            },
            channel_layout: Some("5.1"),
            bit_rate: Some(AUDIO_BITRATES[usize::from(!english)]),
            channels: Some(6),
            sample_rate: Some(48_000),
            is_default: english,
            profile: Some(if english {
                "Dolby Digital Plus"
            } else {
                "Dolby Digital"
            }),
            ..MediaStreamOut::not_video("Audio", index)
        }
    }

    fn subtitle(index: i32) -> MediaStreamOut {
        let (language, title, display_title, forced, hearing_impaired) = match index {
            3 => (
                "eng",
                "English (Forced)",
                "English (Forced) - Forced - SUBRIP",
                true,
                false,
            ),
            4 => ("eng", "English SDH", "English SDH - SUBRIP", false, true),
            _ => ("ger", "Deutsch", "Deutsch - SUBRIP", false, false),
        };
        MediaStreamOut {
            codec: "subrip",
            language: Some(language),
            title: Some(title),
            localized_undefined: Some("Undefined"),
            localized_forced: Some("Forced"),
            localized_hearing_impaired: Some("Hearing Impaired"),
            display_title,
            is_forced: forced,
            is_hearing_impaired: hearing_impaired,
            is_text_subtitle_stream: true,
            supports_external_stream: true,
            ..MediaStreamOut::not_video("Subtitle", index)
        }
    }
}

impl<'w> MediaSourceOut<'w> {
    pub fn new(file: Probed<'w>) -> MediaSourceOut<'w> {
        let seconds: i64 = if file.movie { 7_200 } else { 2_700 };
        let bitrate =
            i32::try_from(file.size.saturating_mul(8) / seconds.unsigned_abs()).unwrap_or(i32::MAX);
        let video = bitrate.saturating_sub(AUDIO_BITRATES.iter().sum::<i32>());
        let name = file
            .path
            .rsplit('/')
            .next()
            .and_then(|f| f.rsplit_once('.').map(|(stem, _)| stem))
            .unwrap_or("")
            .to_string();
        MediaSourceOut {
            protocol: "File",
            id: file.id,
            path: file.path,
            kind: "Default",
            container: "mkv",
            size: file.size,
            name,
            is_remote: false,
            etag: file.id,
            run_time_ticks: seconds * TICKS,
            read_at_native_framerate: false,
            ignore_dts: false,
            ignore_index: false,
            gen_pts_input: false,
            supports_transcoding: true,
            supports_direct_stream: true,
            supports_direct_play: true,
            is_infinite_stream: false,
            use_most_compatible_transcoding_profile: false,
            requires_opening: false,
            requires_closing: false,
            requires_looping: false,
            supports_probing: true,
            video_type: "VideoFile",
            media_streams: [
                MediaStreamOut::video(video),
                MediaStreamOut::audio(1),
                MediaStreamOut::audio(2),
                MediaStreamOut::subtitle(3),
                MediaStreamOut::subtitle(4),
                MediaStreamOut::subtitle(5),
            ],
            media_attachments: [],
            formats: [],
            bitrate,
            required_http_headers: Empty,
            transcoding_sub_protocol: "http",
            default_audio_stream_index: 1,
            default_subtitle_stream_index: -1,
            has_segments: false,
        }
    }
}
