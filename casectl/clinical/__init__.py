"""Published clinical instruments, blood pressure and growth references: pure functions, sources cited."""
