//! Exit codes of the `shelflife` binary: the contract scripts and systemd rely on.

/// Declares [`Exit`] from one list of variants and their numbers, so that [`Exit::code`] and
/// [`Exit::ALL`] cannot leave one out.
macro_rules! exits {
    ($($(#[doc = $doc:literal])* $variant:ident = $code:literal,)*) => {
        /// How a command ended. The numbers are part of the user contract: the README's table of
        /// exit codes lists them, and `tests/readme.rs` holds the two to each other.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Exit {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Exit {
            /// Every exit, in declaration order.
            pub const ALL: &'static [Exit] = &[$(Exit::$variant,)*];

            pub fn code(self) -> u8 {
                match self {
                    $(Exit::$variant => $code,)*
                }
            }
        }
    };
}

exits! {
    /// The pass finished (dry or live), or the command did what was asked.
    Ok = 0,
    /// Something failed: a server error, a refused plan, a failed deletion.
    Failed = 1,
    /// The config file or the command line is wrong.
    Usage = 2,
    /// The storage is unhealthy: the pass stopped and deleted nothing more (EX_TEMPFAIL).
    Paused = 75,
    /// `check`: some check is degraded.
    CheckDegraded = 1,
    /// `check`: some check is unhealthy.
    CheckUnhealthy = 2,
    /// `check`: the config is wrong.
    CheckConfig = 3,
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_contract() {
        assert_eq!(Exit::Ok.code(), 0);
        assert_eq!(Exit::Failed.code(), 1);
        assert_eq!(Exit::Usage.code(), 2);
        assert_eq!(Exit::Paused.code(), 75);
        assert_eq!(Exit::CheckDegraded.code(), 1);
        assert_eq!(Exit::CheckUnhealthy.code(), 2);
        assert_eq!(Exit::CheckConfig.code(), 3);
    }
}
