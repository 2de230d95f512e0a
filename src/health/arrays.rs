//! RAID and pool state: md (/proc/mdstat), ZFS (`zpool list`), btrfs (device error counters).
//! (Being written; see the issue 4 helper brief.)
