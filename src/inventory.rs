//! Fetch everything a pass needs and join it into a Library.
