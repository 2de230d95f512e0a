//! Two simulated stacks as two instances of each *arr: stack A's Radarr is `hd` (/movies) and
//! its Sonarr `tv` (/tv); stack B's Radarr is `4k` (/movies4k) and its Sonarr `anime` (/anime).
//! The config names A's Jellyfin, which is to show the files of both. Each stack numbers its
//! items from 1, so the two instances of each *arr use the same ids for different titles, as
//! real instances do.

use shelflife_sim::{Service, SimStack, World, JELLYFIN_KEY, RADARR_KEY, SONARR_KEY};

use super::Harness;

pub const UHD_ROOT: &str = "/movies4k";
pub const ANIME_ROOT: &str = "/anime";

/// Stack A (with the config) and stack B.
pub struct Two {
    pub h: Harness,
    pub b: SimStack,
}

impl Two {
    /// Starts both stacks; the config names Jellyfin of A, both Radarrs and both Sonarrs, then
    /// `extra`.
    pub async fn start(a: World, b: World, extra: &str) -> Two {
        let h = Harness::start(a, "").await;
        let b = SimStack::start(b).await.expect("stack B starts");
        b.with_world(|w| {
            w.radarr_root_folders[0].path = UHD_ROOT.into();
            w.sonarr_root_folders[0].path = ANIME_ROOT.into();
        });
        let two = Two { h, b };
        two.h.write_config(&two.config(extra));
        two
    }

    pub fn config(&self, extra: &str) -> String {
        let a = &self.h.stack;
        let state = self.h.dir.path().join("state.db");
        format!(
            "[jellyfin]\nurl = \"{}\"\napi_key = \"{JELLYFIN_KEY}\"\nusers = [\"alice\"]\n\n\
             [[radarr]]\nname = \"hd\"\nurl = \"{}\"\napi_key = \"{RADARR_KEY}\"\n\n\
             [[radarr]]\nname = \"4k\"\nurl = \"{}\"\napi_key = \"{RADARR_KEY}\"\n\n\
             [[sonarr]]\nname = \"tv\"\nurl = \"{}\"\napi_key = \"{SONARR_KEY}\"\n\n\
             [[sonarr]]\nname = \"anime\"\nurl = \"{}\"\napi_key = \"{SONARR_KEY}\"\n\n\
             [state]\npath = {:?}\n\n{extra}",
            a.jellyfin_url(),
            a.radarr_url(),
            self.b.radarr_url(),
            a.sonarr_url(),
            self.b.sonarr_url(),
            state.display().to_string(),
        )
    }

    /// Short request deadlines for every *arr instance and no resending, as
    /// [`Harness::quick_limits`] gives the single ones.
    pub fn quick_limits(&self) {
        let text = std::fs::read_to_string(&self.h.config).expect("read config");
        let text = text
            .replace(
                "[[radarr]]\n",
                "[[radarr]]\ntimeout = \"2s\"\nretries = 0\n",
            )
            .replace(
                "[[sonarr]]\n",
                "[[sonarr]]\ntimeout = \"2s\"\nretries = 0\n",
            );
        self.h.write_config(&text);
    }

    /// The writes each stack's `service` received, as `METHOD path`.
    pub fn writes(stack: &SimStack, service: Service) -> Vec<String> {
        stack
            .writes()
            .into_iter()
            .filter(|(s, _)| *s == service)
            .map(|(_, r)| format!("{} {}", r.method, r.path))
            .collect()
    }
}
