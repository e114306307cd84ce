#include "io/probe.h"

#include "core/error.h"
#include "io/ffmpeg_util.h"

namespace thg::io {

MediaInfo probe_media(const std::filesystem::path& file) {
  const std::string path = file.string();
  ff::InputPtr input = ff::open_input(path);
  MediaInfo info;
  info.format = input->iformat->name;
  const int v = av_find_best_stream(input.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  const int a = av_find_best_stream(input.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  if (v >= 0) {
    const AVStream* s = input->streams[v];
    info.has_video = true;
    info.video_codec = avcodec_get_name(s->codecpar->codec_id);
    const char* pf = av_get_pix_fmt_name(static_cast<AVPixelFormat>(s->codecpar->format));
    info.pixel_format = pf ? pf : "";
    info.width = s->codecpar->width;
    info.height = s->codecpar->height;
    info.fps = s->avg_frame_rate.den > 0 ? av_q2d(s->avg_frame_rate) : 0;
  }
  if (a >= 0) {
    const AVStream* s = input->streams[a];
    info.has_audio = true;
    info.audio_codec = avcodec_get_name(s->codecpar->codec_id);
    info.sample_rate = s->codecpar->sample_rate;
    info.channels = s->codecpar->ch_layout.nb_channels;
  }
  // Count packets and find each stream's end time (pts + duration) by reading the container.
  ff::PacketPtr packet = ff::make_packet();
  int64_t video_end = 0, audio_end = 0, audio_start = INT64_MAX;
  while (av_read_frame(input.get(), packet.get()) >= 0) {
    const int64_t end = packet->pts + packet->duration;
    if (packet->stream_index == v) {
      ++info.video_frames;
      video_end = std::max(video_end, end);
    } else if (packet->stream_index == a) {
      audio_end = std::max(audio_end, end);
      audio_start = std::min(audio_start, packet->pts);
    }
    av_packet_unref(packet.get());
  }
  if (v >= 0) info.video_seconds = video_end * av_q2d(input->streams[v]->time_base);
  if (a >= 0) {
    // Encoder priming samples are marked by a negative start; they are not part of the audio.
    const int64_t start = audio_start == INT64_MAX ? 0 : std::max<int64_t>(audio_start, 0);
    info.audio_seconds = (audio_end - start) * av_q2d(input->streams[a]->time_base);
  }
  return info;
}

}  // namespace thg::io
