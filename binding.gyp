{
  "targets": [
    {
      "target_name": "strata_linux",
      "sources": ["src/native/linux.c"],
      "cflags": ["-Wall", "-O2"]
    }
  ]
}
