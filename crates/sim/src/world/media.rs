//! What Radarr and Sonarr know of a file besides its path and size: the quality it was grabbed
//! in and what their media scan found, served as the file record's `quality` (`QualityModel`)
//! and `mediaInfo` (`MediaInfoResource`).

/// A file's quality and media, as a test sets them:
/// `FileMedia::new("Remux-2160p", 2160).audio("TrueHD Atmos", 7.1)`.
#[derive(Debug, Clone, PartialEq)]
pub struct FileMedia {
    /// The *arr's quality name: `Remux-2160p` (Radarr), `Bluray-2160p Remux` (Sonarr).
    pub quality: String,
    /// The quality's resolution: 2160, 1080 …
    pub resolution: i32,
    pub audio_codec: String,
    /// As the *arrs count them: 7.1, 5.1, 2.
    pub audio_channels: f64,
    /// The video's size: `3840x2160`.
    pub video_resolution: String,
    pub video_codec: String,
}

impl FileMedia {
    /// A file of quality `quality` at `resolution`, with a stereo AAC track until
    /// [`FileMedia::audio`] says otherwise, and the usual picture size of that resolution.
    pub fn new(quality: &str, resolution: i32) -> Self {
        let width = match resolution {
            2160 => 3840,
            1080 => 1920,
            720 => 1280,
            r => r * 16 / 9,
        };
        FileMedia {
            quality: quality.to_string(),
            resolution,
            audio_codec: "AAC".to_string(),
            audio_channels: 2.0,
            video_resolution: format!("{width}x{resolution}"),
            video_codec: if resolution >= 2160 { "HEVC" } else { "x264" }.to_string(),
        }
    }

    /// What a movie has unless a test says otherwise: a 1080p Blu-ray encode with AC3 5.1.
    pub fn movie_default() -> Self {
        FileMedia::new("Bluray-1080p", 1080).audio("AC3", 5.1)
    }

    /// What an episode has unless a test says otherwise: a 1080p web download with EAC3 5.1.
    pub fn episode_default() -> Self {
        FileMedia::new("WEBDL-1080p", 1080).audio("EAC3", 5.1)
    }

    /// The main audio track: `codec` as the *arrs name it (`TrueHD Atmos`, `DTS-HD MA`), with
    /// `channels` (7.1).
    pub fn audio(mut self, codec: &str, channels: f64) -> Self {
        self.audio_codec = codec.to_string();
        self.audio_channels = channels;
        self
    }

    /// The quality's source, as Radarr (`bluray`, `webdl`, `tv` …) or Sonarr (`bluray`,
    /// `blurayRaw`, `web`, `television` …) spell it.
    pub(crate) fn source(&self, radarr: bool) -> &'static str {
        let q = self.quality.to_ascii_lowercase();
        match (radarr, q) {
            (true, q) if q.contains("remux") || q.contains("bluray") => "bluray",
            (true, q) if q.starts_with("webdl") => "webdl",
            (true, q) if q.starts_with("webrip") => "webrip",
            (true, q) if q.starts_with("hdtv") || q.starts_with("sdtv") => "tv",
            (true, q) if q.starts_with("dvd") => "dvd",
            (false, q) if q.contains("remux") => "blurayRaw",
            (false, q) if q.starts_with("bluray") => "bluray",
            (false, q) if q.starts_with("webdl") => "web",
            (false, q) if q.starts_with("webrip") => "webRip",
            (false, q) if q.starts_with("hdtv") || q.starts_with("sdtv") => "television",
            (false, q) if q.starts_with("dvd") => "dvd",
            _ => "unknown",
        }
    }

    /// Radarr's modifier of the quality: `remux` for a remux, else `none`.
    pub(crate) fn modifier(&self) -> &'static str {
        if self.quality.to_ascii_lowercase().contains("remux") {
            "remux"
        } else {
            "none"
        }
    }
}
