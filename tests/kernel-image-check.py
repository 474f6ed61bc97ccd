#!/usr/bin/env python3
"""kernel-matrix --kernel's reading of an image (kernel_matrix.kernels): the ELF vmlinux inside a
bzImage whatever its payload's compression (gzip, the default of x86_64_defconfig; xz; zstd), its
release, the config CONFIG_IKCONFIG keeps in it, and the check of that config against what
socklab needs. Images made by hand in the layout of a bzImage: the setup header's "HdrS" at
0x202, the compressed payload, then more bytes (a real bzImage's payload is followed by the rest
of the setup; IKCONFIG's blob by IKCFG_ED and the rest of the kernel).

    kernel-image-check.py     exit 0, or a FAIL line and exit 1
"""
import gzip
import lzma
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
from kernel_matrix.common import Fail  # noqa: E402
from kernel_matrix.kernels import FRAGMENT, custom_kernel, image_config, image_release, kernel_elf, parse_config  # noqa: E402

RELEASE = "6.1.999-imagecheck"


def fail(text):
    sys.exit("kernel-image-check: FAIL: " + text)


def fragment_config(without=()):
    """A config with every option of the fragment and the two FTRACE selects (as make olddefconfig
    would leave them), less those named."""
    lines = [line for line in open(FRAGMENT).read().splitlines() if line.startswith("CONFIG_")]
    lines += ["CONFIG_TRACING=y", "CONFIG_EVENT_TRACING=y"]
    return "\n".join(line for line in lines if line.split("=")[0] not in without) + "\n"


def elf(config):
    blob = b"IKCFG_ST" + gzip.compress(config.encode()) + b"IKCFG_ED" if config else b""
    return b"\x7fELF" + b"\0" * 60 + ("Linux version %s (builder@host) #1 SMP" % RELEASE).encode() + b"\0" * 16 + blob + b"\0" * 256


def bzimage(payload):
    setup = bytearray(0x400)
    setup[0x202:0x206] = b"HdrS"
    return bytes(setup) + payload + b"\x1f\x8b\x08 not a second member: the rest of the setup" + b"\0" * 64


compressions = {"gzip": gzip.compress, "xz": lambda b: lzma.compress(b, format=lzma.FORMAT_XZ)}
if shutil.which("zstd"):
    compressions["zstd"] = lambda b: subprocess.run(["zstd", "-q", "-c"], input=b, capture_output=True, check=True).stdout

with tempfile.TemporaryDirectory() as tmp:
    kernel = elf(fragment_config())
    for name, compress in compressions.items():
        path = os.path.join(tmp, "bzImage." + name)
        open(path, "wb").write(bzimage(compress(kernel)))
        try:
            got = kernel_elf(path)
        except Fail as e:
            fail("a %s bzImage: %s" % (name, e))
        if got != kernel:
            fail("the vmlinux of a %s bzImage is not the one packed into it" % name)
        if image_release(got, path) != RELEASE:
            fail("the release of a %s bzImage is %r" % (name, image_release(got, path)))
        if parse_config(image_config(got) or "") != parse_config(fragment_config()):
            fail("the IKCONFIG of a %s bzImage does not read back" % name)
    print("ok: the vmlinux, release and IKCONFIG of a bzImage in %s" % ", ".join(compressions))

    # The whole --kernel check: the image's own config passes; a config without the veth is refused
    # in one sentence naming the option and the fragment; an image without IKCONFIG needs --config.
    image = os.path.join(tmp, "bzImage.gzip")
    cache = os.path.join(tmp, "cache")
    k = custom_kernel({"image": image}, cache)
    if k["release"] != RELEASE or not os.path.isfile(k["image"]):
        fail("custom_kernel gave %s" % k)
    open(os.path.join(tmp, "config"), "w").write(fragment_config(without=("CONFIG_VETH",)))
    try:
        custom_kernel({"image": image, "config": os.path.join(tmp, "config")}, cache)
        fail("a config without CONFIG_VETH was taken")
    except Fail as e:
        if "CONFIG_VETH (the veth pair: not set)" not in str(e) or "socklab.config" not in str(e):
            fail("the refusal of a config without CONFIG_VETH says: " + str(e))
    bare = os.path.join(tmp, "bzImage.bare")
    open(bare, "wb").write(bzimage(gzip.compress(elf(None))))
    try:
        custom_kernel({"image": bare}, cache)
        fail("an image without IKCONFIG and no --config was taken")
    except Fail as e:
        if "give its .config with --config FILE" not in str(e):
            fail("the refusal of an image without a config says: " + str(e))
    print("ok: the config check takes the fragment, refuses a missing CONFIG_VETH and asks for --config when the image has none")
