//! Exit codes of the `shelflife` binary: the contract scripts and systemd rely on.

/// How a command ended. The numbers are part of the user contract (see the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The pass finished (dry or live), or the command did what was asked.
    Ok,
    /// Something failed: a server error, a refused plan, a failed deletion.
    Failed,
    /// The config file or the command line is wrong.
    Usage,
    /// The storage is unhealthy: the pass stopped and deleted nothing more (EX_TEMPFAIL).
    Paused,
    /// `check`: some check is degraded.
    CheckDegraded,
    /// `check`: some check is unhealthy.
    CheckUnhealthy,
    /// `check`: the config is wrong.
    CheckConfig,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::Paused => 75,
            Exit::CheckDegraded => 1,
            Exit::CheckUnhealthy => 2,
            Exit::CheckConfig => 3,
        }
    }
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
