#include "serve/upload.h"

#include <httplib.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <fstream>

#include "core/error.h"
#include "core/pixels.h"
#include "engine/settings.h"
#include "io/audio.h"
#include "io/image.h"
#include "io/media_writers.h"
#include "portrait/prepare.h"
#include "serve/http_error.h"
#include "serve/public_message.h"

namespace thg::serve {

namespace fs = std::filesystem;

namespace {
constexpr size_t kMaxFields = 64;
constexpr size_t kMaxFieldBytes = 4096;
const char* const kFileRoles[] = {"portrait", "audio"};

bool is_file_role(const std::string& name) {
  return std::any_of(std::begin(kFileRoles), std::end(kFileRoles), [&](const char* r) { return name == r; });
}

portrait::FaceTemplate face_template(const model::ModelFamily& model) {
  const model::FaceTemplateConfig& f = model.config().face;
  return portrait::FaceTemplate{f.eye_y, f.eye_distance, f.mouth_y};
}
}  // namespace

std::string display_name(const std::string& client_name) {
  std::string name = client_name;
  const size_t slash = name.find_last_of("/\\");
  if (slash != std::string::npos) name = name.substr(slash + 1);
  std::string out;
  for (char c : name)
    if (c >= 0x20 && c < 0x7f) out += c;
  if (out == "." || out == "..") out.clear();
  return out.substr(0, 100);
}

Upload receive_upload(const httplib::Request& request, const httplib::ContentReader& reader, const fs::path& folder,
                      int64_t max_file_bytes) {
  if (!request.is_multipart_form_data())
    throw HttpError(400, "the body must be multipart/form-data with a portrait and an audio file");
  Upload upload;
  upload.folder = folder;
  std::ofstream file;
  std::string part, field;
  int64_t written = 0;
  bool too_large = false;
  std::string refused;  // the first problem; the rest of the body is read and dropped
  const auto finish_part = [&] {
    if (file.is_open()) file.close();
    if (!part.empty() && !is_file_role(part) && refused.empty()) upload.fields[part] = field;
    part.clear();
  };
  const bool ok = reader(
      [&](const httplib::MultipartFormData& header) {
        finish_part();
        part = header.name;
        field.clear();
        written = 0;
        if (!refused.empty() || too_large) return true;
        if (part.empty()) {
          refused = "a form part without a name";
        } else if (is_file_role(part)) {
          if (upload.file_names.count(part)) refused = part + ": sent twice";
          upload.file_names[part] = display_name(header.filename);
          file.open(folder / part, std::ios::binary | std::ios::trunc);
          if (!file) throw HttpError(500, "cannot store the upload");
        } else if (!header.filename.empty()) {
          refused = part + ": unknown file field (send portrait and audio)";
        } else if (upload.fields.size() >= kMaxFields) {
          refused = "too many form fields";
        }
        return true;
      },
      [&](const char* data, size_t length) {
        if (!refused.empty() || too_large) return true;  // drain: the client gets the answer, not a reset
        written += static_cast<int64_t>(length);
        if (is_file_role(part)) {
          if (written > max_file_bytes) {
            too_large = true;
            file.close();
            fs::remove(folder / part);
            refused = part + ": larger than the server's limit of " + std::to_string(max_file_bytes >> 20) + " MB";
            return true;
          }
          file.write(data, static_cast<std::streamsize>(length));
        } else {
          if (field.size() + length > kMaxFieldBytes) refused = part + ": longer than 4096 bytes";
          else field.append(data, length);
        }
        return true;
      });
  finish_part();
  if (too_large) throw HttpError(413, refused);
  if (!refused.empty()) throw HttpError(400, refused);
  if (!ok) throw HttpError(400, "the multipart body could not be read");
  return upload;
}

namespace {
// The upload's portrait decoded and prepared as generate will prepare it.
portrait::PreparedPortrait prepare(const Upload& upload, const model::ModelFamily& model,
                                   const portrait::PortraitOptions& placement, int64_t size) {
  const fs::path photo = upload.folder / "portrait";
  if (!upload.file_names.count("portrait")) throw HttpError(400, "portrait: missing (a multipart file field)");
  io::RgbaImage image;
  try {
    image = io::decode_image_rgba(photo);
  } catch (const Error& e) {
    throw HttpError(415, "portrait: not an image THG can decode (" + e.reason() + ")");
  } catch (const std::exception& e) {
    throw HttpError(415, "portrait: not an image THG can decode");
  }
  try {
    return portrait::prepare_portrait(std::move(image), "portrait", static_cast<int>(size), face_template(model),
                                      placement);
  } catch (const std::exception& e) {
    throw HttpError(400, public_message(e, upload.folder));
  }
}
}  // namespace

CheckedJob check_job_upload(const Upload& upload, const model::ModelFamily& model, double max_audio_seconds) {
  CheckedJob job;
  for (const auto& [name, value] : upload.fields) {
    const pipeline::SettingInfo* s = pipeline::find_setting(name);
    if (!s) throw HttpError(400, name + ": not a generation setting (see GET /v1/model or thg generate --help)");
    try {
      s->set(job.options, value);
    } catch (const std::exception& e) {
      throw HttpError(400, public_message(e, upload.folder));
    }
  }
  job.settings = pipeline::settings_text(job.options);  // as asked (the worker applies the server's cap again)
  job.options.max_audio_seconds = std::min(job.options.max_audio_seconds, max_audio_seconds);
  try {
    portrait::validate(job.options.placement);
  } catch (const std::exception& e) {
    throw HttpError(400, public_message(e, upload.folder));
  }
  const int64_t size = job.options.size > 0 ? job.options.size : model.config().image_size;
  if (job.options.placement.crop) {
    prepare(upload, model, job.options.placement, size);
  } else {  // the whole image is the input: it still has to be one
    if (!upload.file_names.count("portrait")) throw HttpError(400, "portrait: missing (a multipart file field)");
    try {
      io::decode_image_rgba(upload.folder / "portrait");
    } catch (const std::exception&) {
      throw HttpError(415, "portrait: not an image THG can decode");
    }
  }

  if (!upload.file_names.count("audio")) throw HttpError(400, "audio: missing (a multipart file field)");
  io::AudioBuffer audio;
  try {
    audio = io::decode_audio(upload.folder / "audio", io::AudioLimits{job.options.max_audio_seconds});
  } catch (const Error& e) {
    const std::string m = public_message(e, upload.folder);
    // Decodable but too long is the client's choice of file (400); undecodable is its type (415).
    const bool too_long = m.find("longer than") != std::string::npos || m.find("the limit is") != std::string::npos;
    throw HttpError(too_long ? 400 : 415,
                    m.rfind("audio", 0) == 0 ? m : "audio: " + m);
  } catch (const std::exception& e) {
    throw HttpError(415, "audio: " + public_message(e, upload.folder));
  }
  job.audio_seconds = audio.seconds();
  if (job.audio_seconds <= 0) throw HttpError(415, "audio: no samples in the file");
  return job;
}

std::string face_preview_png(const Upload& upload, const model::ModelFamily& model) {
  pipeline::GenerateOptions o;
  for (const auto& [name, value] : upload.fields) {
    if (name != "face" && name != "framing" && name != "crop_scale") continue;
    try {
      pipeline::find_setting(name)->set(o, value);
    } catch (const std::exception& e) {
      throw HttpError(400, public_message(e, upload.folder));
    }
  }
  const portrait::PreparedPortrait p = prepare(upload, model, o.placement, model.config().image_size);
  const at::Tensor rgb = frames_to_rgb8(p.crop.unsqueeze(0))[0].contiguous();  // [H, W, 3]
  const fs::path png = upload.folder / "preview.png";
  io::write_png(png, rgb.data_ptr<uint8_t>(), static_cast<int>(rgb.size(1)), static_cast<int>(rgb.size(0)));
  std::ifstream in(png, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace thg::serve
