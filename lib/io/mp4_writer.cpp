#include "io/mp4_writer.h"

#include <algorithm>
#include <array>

#include "core/atomic_file.h"
#include "core/error.h"
#include "io/ffmpeg_util.h"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
}

namespace thg::io {

namespace {
constexpr std::array<int, 12> kAacRates = {96000, 88200, 64000, 48000, 44100, 32000,
                                           24000, 22050, 16000, 12000, 11025, 8000};
}

struct Mp4Writer::State {
  VideoSpec spec;
  AtomicFile file;
  std::string path;  // the final path, for messages
  ff::OutputPtr out;
  ff::CodecPtr venc, aenc;
  AVStream* vstream = nullptr;
  AVStream* astream = nullptr;
  ff::SwsPtr sws;
  ff::FramePtr vframe, aframe;
  ff::PacketPtr packet;
  AudioBuffer audio;       // resampled for the AAC encoder, interleaved float
  int64_t audio_pos = 0;   // next audio sample frame to encode
  int64_t next_video_pts = 0;
  bool finished = false;

  explicit State(std::filesystem::path final_path) : file(final_path), path(final_path.string()) {}

  [[noreturn]] void fail(const std::string& what, int rc) {
    throw Error::failure(path, what + " (" + ff::error_string(rc) + ")");
  }
  [[noreturn]] void fail_write(int rc) {
    if (rc == AVERROR(ENOSPC) || rc == AVERROR(EFBIG) || rc == AVERROR(EDQUOT))
      throw Error::failure(path, "cannot write the video: the disk is full or a file size limit was reached (" +
                                     ff::error_string(rc) + ")");
    fail("cannot write to the output file", rc);
  }

  void drain(AVCodecContext* enc, AVStream* stream) {
    while (true) {
      int rc = avcodec_receive_packet(enc, packet.get());
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return;
      if (rc < 0) fail("encoding failed", rc);
      av_packet_rescale_ts(packet.get(), enc->time_base, stream->time_base);
      packet->stream_index = stream->index;
      rc = av_interleaved_write_frame(out.get(), packet.get());
      if (rc < 0) fail_write(rc);
    }
  }

  // Encodes audio up to `until_frames` sample frames (or all that is left when flushing).
  void encode_audio_until(int64_t until_frames, bool flush) {
    if (!aenc) return;
    const int frame_size = aenc->frame_size > 0 ? aenc->frame_size : 1024;
    const int64_t total = audio.frames();
    until_frames = std::min(until_frames, total);
    while (audio_pos < until_frames && (until_frames - audio_pos >= frame_size || flush)) {
      const int n = static_cast<int>(std::min<int64_t>(frame_size, total - audio_pos));
      aframe->nb_samples = frame_size;
      int rc = av_frame_make_writable(aframe.get());
      if (rc < 0) fail("audio frame allocation failed", rc);
      // The AAC encoder takes planar float: de-interleave. Only the last frame may be short
      // (the encoder accepts a small last frame).
      for (int c = 0; c < audio.channels; ++c) {
        float* dst = reinterpret_cast<float*>(aframe->data[c]);
        for (int i = 0; i < n; ++i) dst[i] = audio.samples[(audio_pos + i) * audio.channels + c];
      }
      aframe->nb_samples = n;
      aframe->pts = audio_pos;
      rc = avcodec_send_frame(aenc.get(), aframe.get());
      if (rc < 0) fail("audio encoding failed", rc);
      audio_pos += n;
      drain(aenc.get(), astream);
    }
  }
};

Mp4Writer::Mp4Writer(std::filesystem::path output, const VideoSpec& spec, const AudioBuffer& audio) {
  check_output_path(output);
  if (spec.width <= 0 || spec.height <= 0 || spec.width % 2 || spec.height % 2)
    throw Error::input(output.string(), "video size must be positive and even (H.264 4:2:0)");
  if (spec.fps < 1 || spec.fps > 120) throw Error::input(output.string(), "--fps must be between 1 and 120");
  if (spec.crf < 0 || spec.crf > 51) throw Error::input(output.string(), "--crf must be between 0 and 51");
  ff::configure_logging();
  state_ = std::make_unique<State>(output);
  State& s = *state_;
  s.spec = spec;
  s.packet = ff::make_packet();

  AVFormatContext* raw = nullptr;
  int rc = avformat_alloc_output_context2(&raw, nullptr, "mp4", s.file.temp_path().c_str());
  if (rc < 0 || raw == nullptr) s.fail("cannot create the MP4 muxer", rc);
  s.out.reset(raw);

  // Video: libx264, yuv420p.
  const AVCodec* h264 = avcodec_find_encoder_by_name("libx264");
  if (h264 == nullptr) h264 = avcodec_find_encoder(AV_CODEC_ID_H264);
  if (h264 == nullptr) throw Error::failure(s.path, "this FFmpeg has no H.264 encoder");
  s.vstream = avformat_new_stream(s.out.get(), nullptr);
  s.venc.reset(avcodec_alloc_context3(h264));
  if (!s.vstream || !s.venc) throw std::bad_alloc();
  s.venc->width = spec.width;
  s.venc->height = spec.height;
  s.venc->pix_fmt = AV_PIX_FMT_YUV420P;
  s.venc->time_base = AVRational{1, spec.fps};
  s.venc->framerate = AVRational{spec.fps, 1};
  s.venc->gop_size = spec.fps * 2;
  s.venc->color_range = AVCOL_RANGE_MPEG;
  s.venc->colorspace = AVCOL_SPC_BT709;
  s.venc->color_primaries = AVCOL_PRI_BT709;
  s.venc->color_trc = AVCOL_TRC_BT709;
  if (s.out->oformat->flags & AVFMT_GLOBALHEADER) s.venc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  av_opt_set(s.venc->priv_data, "crf", std::to_string(spec.crf).c_str(), 0);
  av_opt_set(s.venc->priv_data, "preset", spec.preset, 0);
  rc = avcodec_open2(s.venc.get(), h264, nullptr);
  if (rc < 0) s.fail("cannot open the H.264 encoder", rc);
  rc = avcodec_parameters_from_context(s.vstream->codecpar, s.venc.get());
  if (rc < 0) s.fail("cannot set video stream parameters", rc);
  s.vstream->time_base = s.venc->time_base;
  s.vstream->avg_frame_rate = s.venc->framerate;

  s.vframe = ff::make_frame();
  s.vframe->format = AV_PIX_FMT_YUV420P;
  s.vframe->width = spec.width;
  s.vframe->height = spec.height;
  rc = av_frame_get_buffer(s.vframe.get(), 0);
  if (rc < 0) s.fail("cannot allocate a video frame", rc);
  s.sws.reset(sws_getContext(spec.width, spec.height, AV_PIX_FMT_RGB24, spec.width, spec.height, AV_PIX_FMT_YUV420P,
                             SWS_BICUBIC | SWS_ACCURATE_RND, nullptr, nullptr, nullptr));
  if (!s.sws) throw Error::failure(s.path, "cannot set up RGB to YUV conversion");
  const int* coeffs = sws_getCoefficients(SWS_CS_ITU709);
  sws_setColorspaceDetails(s.sws.get(), coeffs, 1, coeffs, 0, 0, 1 << 16, 1 << 16);

  // Audio: AAC from the input speech, at an AAC sample rate, mono or stereo.
  if (audio.frames() > 0) {
    int rate = audio.sample_rate;
    if (std::find(kAacRates.begin(), kAacRates.end(), rate) == kAacRates.end()) rate = 48000;
    s.audio = resample(audio, rate, std::clamp(audio.channels, 1, 2));
    const AVCodec* aac = avcodec_find_encoder(AV_CODEC_ID_AAC);
    if (aac == nullptr) throw Error::failure(s.path, "this FFmpeg has no AAC encoder");
    s.astream = avformat_new_stream(s.out.get(), nullptr);
    s.aenc.reset(avcodec_alloc_context3(aac));
    if (!s.astream || !s.aenc) throw std::bad_alloc();
    s.aenc->sample_fmt = AV_SAMPLE_FMT_FLTP;
    s.aenc->sample_rate = rate;
    av_channel_layout_default(&s.aenc->ch_layout, s.audio.channels);
    s.aenc->bit_rate = s.audio.channels == 1 ? 96000 : 160000;
    s.aenc->time_base = AVRational{1, rate};
    if (s.out->oformat->flags & AVFMT_GLOBALHEADER) s.aenc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    rc = avcodec_open2(s.aenc.get(), aac, nullptr);
    if (rc < 0) s.fail("cannot open the AAC encoder", rc);
    rc = avcodec_parameters_from_context(s.astream->codecpar, s.aenc.get());
    if (rc < 0) s.fail("cannot set audio stream parameters", rc);
    s.astream->time_base = s.aenc->time_base;
    s.aframe = ff::make_frame();
    s.aframe->format = AV_SAMPLE_FMT_FLTP;
    s.aframe->sample_rate = rate;
    av_channel_layout_copy(&s.aframe->ch_layout, &s.aenc->ch_layout);
    s.aframe->nb_samples = s.aenc->frame_size > 0 ? s.aenc->frame_size : 1024;
    rc = av_frame_get_buffer(s.aframe.get(), 0);
    if (rc < 0) s.fail("cannot allocate an audio frame", rc);
  }

  rc = avio_open(&s.out->pb, s.file.temp_path().c_str(), AVIO_FLAG_WRITE);
  if (rc < 0) throw Error::input(s.path, "cannot create the output file (" + ff::error_string(rc) + ")");
  AVDictionary* options = nullptr;
  av_dict_set(&options, "movflags", "+faststart", 0);
  rc = avformat_write_header(s.out.get(), &options);
  av_dict_free(&options);
  if (rc < 0) s.fail("cannot write the MP4 header", rc);
}

Mp4Writer::~Mp4Writer() = default;  // an unfinished file is removed by State::file

int64_t Mp4Writer::frames_written() const { return state_->next_video_pts; }

void Mp4Writer::write_frame(const uint8_t* rgb) {
  State& s = *state_;
  int rc = av_frame_make_writable(s.vframe.get());
  if (rc < 0) s.fail("video frame allocation failed", rc);
  const uint8_t* src[4] = {rgb, nullptr, nullptr, nullptr};
  int src_stride[4] = {s.spec.width * 3, 0, 0, 0};
  sws_scale(s.sws.get(), src, src_stride, 0, s.spec.height, s.vframe->data, s.vframe->linesize);
  s.vframe->pts = s.next_video_pts++;
  rc = avcodec_send_frame(s.venc.get(), s.vframe.get());
  if (rc < 0) s.fail("video encoding failed", rc);
  s.drain(s.venc.get(), s.vstream);
  // Keep the audio about one frame ahead of the video so the muxer can interleave without
  // buffering the whole track.
  if (s.aenc)
    s.encode_audio_until((s.next_video_pts + 1) * static_cast<int64_t>(s.audio.sample_rate) / s.spec.fps, false);
}

void Mp4Writer::finish() {
  State& s = *state_;
  if (s.finished) return;
  int rc = avcodec_send_frame(s.venc.get(), nullptr);
  if (rc < 0) s.fail("cannot flush the video encoder", rc);
  s.drain(s.venc.get(), s.vstream);
  if (s.aenc) {
    s.encode_audio_until(s.audio.frames(), true);
    rc = avcodec_send_frame(s.aenc.get(), nullptr);
    if (rc < 0) s.fail("cannot flush the audio encoder", rc);
    s.drain(s.aenc.get(), s.astream);
  }
  rc = av_write_trailer(s.out.get());
  if (rc < 0) s.fail_write(rc);
  // Buffered bytes reach the file only here: a write error of the final flush must be reported.
  if (s.out->pb->error < 0) s.fail_write(s.out->pb->error);
  rc = avio_closep(&s.out->pb);
  if (rc < 0) s.fail_write(rc);
  s.file.commit();
  s.finished = true;
}

}  // namespace thg::io
