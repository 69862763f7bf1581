{
  # Built by native/Makefile (`addon` target): cd addon && node-gyp rebuild --nodedir=/usr.
  # Linux only. N-API version 8 keeps the binary ABI-stable across Node releases.
  "targets": [
    {
      "target_name": "berth_native",
      "sources": [
        "src/module.cc",
        "src/errors.cc",
        "src/fd.cc",
        "src/process.cc",
        "src/tty.cc",
        "src/console.cc",
        "src/extract.cc",
        "src/clock.cc",
        "src/mount.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-fexceptions"],
      "cflags_cc": ["-Wall", "-Wextra", "-fexceptions", "-std=c++17"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
