//! Pure retention rules: Library + clock + Rules in, Plan out.
