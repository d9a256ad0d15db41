#!/usr/bin/python3
"""A fake IP camera: serves MP4 clips over RTSP, looping forever, with optional Digest auth.

Each `--mount /path=clip.mp4` serves the clip's H.264 as recorded (no re-encoding), paced at the
clip's own frame rate times `--speed`, with SPS/PPS resent before every key frame as cameras do.
`--mjpeg-mount` and `--h265-mount` serve synthetic streams in codecs Vigie does not decode, to test
that refusal. Prints `READY <port>` on stdout once listening (`--port 0` picks a free port).

Needs Debian's GStreamer RTSP server bindings, run with the system Python:
  apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base \
      gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
Example:
  /usr/bin/python3 scripts/fake-camera.py --port 8554 --mount /cam1=assets/video/pets09-s2l1.mp4 \
      --user admin --password secret
  -> rtsp://admin:secret@127.0.0.1:8554/cam1
"""

import argparse
import os
import signal
import sys

APT_PACKAGES = (
    "python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base "
    "gstreamer1.0-plugins-good gstreamer1.0-plugins-bad"
)


def fail(msg, code=2):
    print(f"fake-camera: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


try:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtsp", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtsp, GstRtspServer
except (ImportError, ValueError) as e:
    fail(f"GStreamer RTSP server bindings are missing ({e}); install: apt-get install {APT_PACKAGES}", 3)

# Element -> Debian package, checked up front so a missing plugin is named instead of surfacing
# later as an opaque negotiation failure inside the server.
ELEMENTS = {
    "filesrc": "gstreamer1.0-plugins-base (core)",
    "appsrc": "gstreamer1.0-plugins-base",
    "appsink": "gstreamer1.0-plugins-base",
    "videotestsrc": "gstreamer1.0-plugins-base",
    "qtdemux": "gstreamer1.0-plugins-good",
    "rtph264pay": "gstreamer1.0-plugins-good",
    "jpegenc": "gstreamer1.0-plugins-good",
    "rtpjpegpay": "gstreamer1.0-plugins-good",
    "h264parse": "gstreamer1.0-plugins-bad",
}
H265_ELEMENTS = {
    "x265enc": "gstreamer1.0-plugins-bad",
    "h265parse": "gstreamer1.0-plugins-bad",
    "rtph265pay": "gstreamer1.0-plugins-good",
}


def check_elements(elements):
    missing = [f"{e} ({pkg})" for e, pkg in elements.items() if Gst.ElementFactory.find(e) is None]
    if missing:
        fail(f"missing GStreamer elements: {', '.join(missing)}; install: apt-get install {APT_PACKAGES}", 3)


class Clip:
    """An MP4's H.264 access units, read once into memory so every client and every loop
    replays exactly the recorded bitstream."""

    def __init__(self, path):
        if not os.path.isfile(path):
            fail(f"{path}: no such file")
        pipe = Gst.parse_launch(
            "filesrc name=f ! qtdemux ! h264parse ! "
            "video/x-h264,stream-format=byte-stream,alignment=au ! appsink name=sink sync=false"
        )
        pipe.get_by_name("f").set_property("location", path)
        sink = pipe.get_by_name("sink")
        bus = pipe.get_bus()
        pipe.set_state(Gst.State.PLAYING)
        self.caps = None
        self.units = []  # (bytes, pts_ns, duration_ns, is_key)
        error = None
        while True:
            # Polled rather than blocking: after a demux error no EOS ever reaches the sink.
            sample = sink.emit("try-pull-sample", Gst.SECOND // 10)
            if sample is None:
                msg = bus.pop_filtered(Gst.MessageType.ERROR)
                if msg is not None:
                    error = msg.parse_error()[0].message
                    break
                if sink.get_property("eos"):
                    break
                continue
            buf = sample.get_buffer()
            if self.caps is None:
                self.caps = sample.get_caps()
            ok, info = buf.map(Gst.MapFlags.READ)
            data = bytes(info.data)
            buf.unmap(info)
            key = not buf.has_flags(Gst.BufferFlags.DELTA_UNIT)
            self.units.append((data, buf.pts, buf.duration, key))
        pipe.set_state(Gst.State.NULL)
        if error is not None:
            fail(f"{path}: cannot read H.264 from this MP4: {error}")
        if not self.units:
            fail(f"{path}: no H.264 video frames found")
        first = self.units[0][1]
        last = self.units[-1]
        frame = last[2] if last[2] != Gst.CLOCK_TIME_NONE else Gst.SECOND // 25
        self.first_pts = first
        self.duration = last[1] - first + frame


class Feeder:
    """Pushes a clip into one media's appsrc, looping with continuous timestamps."""

    def __init__(self, clip, speed):
        self.clip = clip
        self.speed = speed
        self.i = 0

    def need_data(self, src, _length):
        units = self.clip.units
        data, pts, duration, key = units[self.i % len(units)]
        loop = self.i // len(units)
        t = (pts - self.clip.first_pts + loop * self.clip.duration) / self.speed
        buf = Gst.Buffer.new_wrapped(data)
        buf.pts = buf.dts = int(t)
        if duration != Gst.CLOCK_TIME_NONE:
            buf.duration = int(duration / self.speed)
        if not key:
            buf.set_flags(Gst.BufferFlags.DELTA_UNIT)
        self.i += 1
        src.emit("push-buffer", buf)


def clip_factory(clip, speed):
    factory = GstRtspServer.RTSPMediaFactory()
    # config-interval=-1: SPS/PPS before every IDR, so a client joining mid-stream can decode.
    factory.set_launch(
        "( appsrc name=src format=time is-live=false ! h264parse config-interval=-1 ! "
        "rtph264pay name=pay0 pt=96 config-interval=-1 )"
    )
    factory.set_shared(True)

    def configure(_factory, media):
        src = media.get_element().get_by_name_recurse_up("src")
        src.set_property("caps", clip.caps)
        feeder = Feeder(clip, speed)
        src.connect("need-data", feeder.need_data)

    factory.connect("media-configure", configure)
    return factory


def launch_factory(launch):
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(True)
    return factory


def parse_mount(text):
    path, sep, clip = text.partition("=")
    if not sep or not path.startswith("/") or not clip:
        raise argparse.ArgumentTypeError(f"expected /path=file.mp4, got {text!r}")
    return path, clip


def parse_path(text):
    if not text.startswith("/"):
        raise argparse.ArgumentTypeError(f"mount path must start with '/', got {text!r}")
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=8554, help="TCP port; 0 picks a free one (default 8554)")
    ap.add_argument("--address", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    ap.add_argument("--mount", type=parse_mount, action="append", default=[], metavar="/PATH=CLIP.mp4")
    ap.add_argument("--mjpeg-mount", type=parse_path, action="append", default=[], metavar="/PATH")
    ap.add_argument("--h265-mount", type=parse_path, action="append", default=[], metavar="/PATH")
    ap.add_argument("--user", help="require RTSP Digest authentication with this user name")
    ap.add_argument("--password", help="password for --user")
    ap.add_argument(
        "--speed", type=float, default=1.0, help="playback speed; 1 = the clip's real frame rate (default)"
    )
    args = ap.parse_args()
    if (args.user is None) != (args.password is None):
        ap.error("--user and --password go together")
    if not (args.mount or args.mjpeg_mount or args.h265_mount):
        ap.error("nothing to serve: give at least one --mount, --mjpeg-mount or --h265-mount")
    if args.speed <= 0:
        ap.error("--speed must be positive")

    Gst.init(None)
    check_elements(ELEMENTS)
    if args.h265_mount:
        check_elements(H265_ELEMENTS)

    server = GstRtspServer.RTSPServer()
    server.set_address(args.address)
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    factories = []
    for path, clip_path in args.mount:
        factories.append((path, clip_factory(Clip(clip_path), args.speed)))
    for path in args.mjpeg_mount:
        factories.append(
            (
                path,
                launch_factory(
                    "( videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width=320,height=240,framerate=10/1 ! "
                    "jpegenc ! rtpjpegpay name=pay0 pt=26 )"
                ),
            )
        )
    for path in args.h265_mount:
        factories.append(
            (
                path,
                launch_factory(
                    "( videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=10/1 ! "
                    "x265enc tune=zerolatency speed-preset=ultrafast key-int-max=10 ! h265parse ! "
                    "rtph265pay name=pay0 pt=96 config-interval=-1 )"
                ),
            )
        )

    if args.user is not None:
        auth = GstRtspServer.RTSPAuth()
        # Digest only: Basic would send the password in clear on every request.
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "camera-user")
        auth.add_digest(args.user, args.password, token)
        server.set_auth(auth)
        role, _ = Gst.Structure.from_string(
            "camera-user, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
        )
        for _, factory in factories:
            factory.add_role_from_structure(role)

    for path, factory in factories:
        mounts.add_factory(path, factory)

    if server.attach(None) == 0:
        fail(f"cannot listen on {args.address}:{args.port} (port in use?)")
    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print(f"READY {server.get_bound_port()}", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
