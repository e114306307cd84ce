#include "io/audio.h"

#include <cmath>

#include "core/error.h"
#include "io/ffmpeg_util.h"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
}

namespace thg::io {

namespace {

AVChannelLayout layout_for(int channels) {
  AVChannelLayout layout;
  av_channel_layout_default(&layout, channels);
  return layout;
}

ff::SwrPtr make_resampler(const AVChannelLayout& in_layout, AVSampleFormat in_format, int in_rate, int out_channels,
                          int out_rate, const std::string& path) {
  SwrContext* raw = nullptr;
  AVChannelLayout out_layout = layout_for(out_channels);
  AVChannelLayout in_copy{};
  av_channel_layout_copy(&in_copy, &in_layout);  // FFmpeg 5.1 takes a non-const pointer
  int rc = swr_alloc_set_opts2(&raw, &out_layout, AV_SAMPLE_FMT_FLT, out_rate, &in_copy, in_format, in_rate, 0,
                               nullptr);
  av_channel_layout_uninit(&in_copy);
  ff::SwrPtr swr(raw);
  if (rc < 0 || !swr) throw Error::input(path, "cannot set up audio conversion (" + ff::error_string(rc) + ")");
  rc = swr_init(swr.get());
  if (rc < 0) throw Error::input(path, "cannot set up audio conversion (" + ff::error_string(rc) + ")");
  return swr;
}

// Appends the converted samples of `frame` (or the resampler's tail when frame is null).
void convert_append(SwrContext* swr, const AVFrame* frame, int out_channels, std::vector<float>& out,
                    const std::string& path) {
  const int in_count = frame ? frame->nb_samples : 0;
  const int capacity = swr_get_out_samples(swr, in_count);
  if (capacity <= 0) return;
  const size_t old = out.size();
  out.resize(old + static_cast<size_t>(capacity) * out_channels);
  uint8_t* dst = reinterpret_cast<uint8_t*>(out.data() + old);
  int got = swr_convert(swr, &dst, capacity, frame ? const_cast<const uint8_t**>(frame->extended_data) : nullptr,
                        in_count);
  if (got < 0) throw Error::input(path, "audio conversion failed (" + ff::error_string(got) + ")");
  out.resize(old + static_cast<size_t>(got) * out_channels);
}

}  // namespace

AudioBuffer decode_audio(const std::filesystem::path& file, const AudioLimits& limits) {
  const std::string path = file.string();
  ff::InputPtr input = ff::open_input(path);
  int index = av_find_best_stream(input.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  if (index < 0) throw Error::input(path, "has no audio stream");
  AVStream* stream = input->streams[index];
  ff::CodecPtr decoder = ff::open_decoder(path, stream);
  if (decoder->sample_rate <= 0 || decoder->ch_layout.nb_channels <= 0)
    throw Error::input(path, "audio stream has no sample rate or channels");

  // Declared duration, to refuse overlong inputs early and to detect truncated files at the end.
  double declared = -1;
  if (stream->duration > 0 && stream->time_base.den > 0)
    declared = stream->duration * av_q2d(stream->time_base);
  else if (input->duration > 0)
    declared = static_cast<double>(input->duration) / AV_TIME_BASE;
  if (declared > limits.max_seconds)
    throw Error::input(path, "audio is " + std::to_string(static_cast<int>(declared)) + " s long; the limit is " +
                                 std::to_string(static_cast<int>(limits.max_seconds)) + " s");

  AudioBuffer out;
  out.sample_rate = decoder->sample_rate;
  out.channels = std::min(decoder->ch_layout.nb_channels, 2);
  ff::SwrPtr swr;
  AVChannelLayout swr_layout{};
  int swr_rate = 0, swr_format = -1;

  ff::PacketPtr packet = ff::make_packet();
  ff::FramePtr frame = ff::make_frame();
  const int64_t max_frames = static_cast<int64_t>(limits.max_seconds * out.sample_rate) + out.sample_rate;
  bool eof = false;
  while (true) {
    int rc = avcodec_receive_frame(decoder.get(), frame.get());
    if (rc == 0) {
      // Parameters may change mid-stream (rare, but legal): rebuild the converter when they do.
      if (!swr || swr_rate != frame->sample_rate || swr_format != frame->format ||
          av_channel_layout_compare(&swr_layout, &frame->ch_layout) != 0) {
        if (swr) convert_append(swr.get(), nullptr, out.channels, out.samples, path);
        av_channel_layout_uninit(&swr_layout);
        av_channel_layout_copy(&swr_layout, &frame->ch_layout);
        swr_rate = frame->sample_rate;
        swr_format = frame->format;
        swr = make_resampler(frame->ch_layout, static_cast<AVSampleFormat>(frame->format), frame->sample_rate,
                             out.channels, out.sample_rate, path);
      }
      convert_append(swr.get(), frame.get(), out.channels, out.samples, path);
      av_frame_unref(frame.get());
      if (out.frames() > max_frames) {
        av_channel_layout_uninit(&swr_layout);
        throw Error::input(path, "audio is longer than the limit of " +
                                     std::to_string(static_cast<int>(limits.max_seconds)) + " s");
      }
      continue;
    }
    if (rc == AVERROR_EOF) break;
    if (rc != AVERROR(EAGAIN)) {
      av_channel_layout_uninit(&swr_layout);
      throw Error::input(path, "corrupt audio data (" + ff::error_string(rc) + ")");
    }
    if (eof) break;
    rc = av_read_frame(input.get(), packet.get());
    if (rc == AVERROR_EOF) {
      eof = true;
      avcodec_send_packet(decoder.get(), nullptr);
      continue;
    }
    if (rc < 0) {
      av_channel_layout_uninit(&swr_layout);
      throw Error::input(path, "cannot read audio data (" + ff::error_string(rc) + ")");
    }
    if (packet->stream_index == index) {
      rc = avcodec_send_packet(decoder.get(), packet.get());
      if (rc < 0 && rc != AVERROR(EAGAIN)) {
        av_packet_unref(packet.get());
        av_channel_layout_uninit(&swr_layout);
        throw Error::input(path, "corrupt audio data at " +
                                     std::to_string(out.seconds()).substr(0, 5) + " s (" + ff::error_string(rc) +
                                     ")");
      }
    }
    av_packet_unref(packet.get());
  }
  if (swr) convert_append(swr.get(), nullptr, out.channels, out.samples, path);
  av_channel_layout_uninit(&swr_layout);

  if (out.frames() == 0) throw Error::input(path, "contains no audio samples");
  // Decoders of frame-based codecs (AAC) may return the encoder's padding after the last real
  // sample; the container's declared duration is the truth, so trim an overshoot of that size.
  if (declared > 0 && out.seconds() > declared && out.seconds() - declared < 0.25) {
    const auto keep = static_cast<int64_t>(std::llround(declared * out.sample_rate));
    out.samples.resize(static_cast<size_t>(keep) * out.channels);
  }
  // A file whose header promises much more than its data holds was cut short (a partial
  // download, an interrupted copy): report it rather than animate half a sentence.
  if (declared > 1.0 && out.seconds() < 0.9 * declared - 0.1)
    throw Error::input(path, "audio is truncated: the header says " + std::to_string(declared).substr(0, 6) +
                                 " s but only " + std::to_string(out.seconds()).substr(0, 6) + " s could be decoded");
  for (float s : out.samples)
    if (!std::isfinite(s)) throw Error::input(path, "audio contains non-finite samples");
  return out;
}

AudioBuffer resample(const AudioBuffer& in, int sample_rate, int channels) {
  if (channels != 1 && channels != 2) throw Error::failure("", "resample: channels must be 1 or 2");
  if (in.sample_rate == sample_rate && in.channels == channels) return in;
  AVChannelLayout in_layout = layout_for(in.channels);
  ff::SwrPtr swr = make_resampler(in_layout, AV_SAMPLE_FMT_FLT, in.sample_rate, channels, sample_rate, "");
  AudioBuffer out;
  out.sample_rate = sample_rate;
  out.channels = channels;
  // Packed float input in blocks; swr_convert takes plain pointers.
  constexpr int kBlock = 1 << 16;
  const int64_t total = in.frames();
  out.samples.reserve(static_cast<size_t>(total * sample_rate / std::max(1, in.sample_rate) + 1024) * channels);
  for (int64_t start = 0; start < total; start += kBlock) {
    const int count = static_cast<int>(std::min<int64_t>(kBlock, total - start));
    const uint8_t* src = reinterpret_cast<const uint8_t*>(in.samples.data() + start * in.channels);
    const int capacity = swr_get_out_samples(swr.get(), count);
    const size_t old = out.samples.size();
    out.samples.resize(old + static_cast<size_t>(std::max(capacity, 0)) * channels);
    uint8_t* dst = reinterpret_cast<uint8_t*>(out.samples.data() + old);
    int got = swr_convert(swr.get(), &dst, capacity, &src, count);
    if (got < 0) throw Error::failure("", "resampling failed (" + ff::error_string(got) + ")");
    out.samples.resize(old + static_cast<size_t>(got) * channels);
  }
  // Flush the resampler's delay line.
  while (true) {
    const int capacity = swr_get_out_samples(swr.get(), 0);
    if (capacity <= 0) break;
    const size_t old = out.samples.size();
    out.samples.resize(old + static_cast<size_t>(capacity) * channels);
    uint8_t* dst = reinterpret_cast<uint8_t*>(out.samples.data() + old);
    int got = swr_convert(swr.get(), &dst, capacity, nullptr, 0);
    out.samples.resize(old + static_cast<size_t>(std::max(got, 0)) * channels);
    if (got <= 0) break;
  }
  return out;
}

}  // namespace thg::io
