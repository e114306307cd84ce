// Model families (model/family.h): a config names its family, files load through it, and a
// family nobody implements is refused with one line.
#include <gtest/gtest.h>

#include "core/error.h"
#include "model/family.h"
#include "model/talking_head.h"
#include "test_util.h"

namespace thg {
namespace {

TEST(Family, ConfigsNameTheirFamilyAndUnknownOnesAreRefused) {
  const std::string tiny = test::read_file(test::source_root() / "configs/tiny.yaml");
  EXPECT_EQ(model::parse_model_config(tiny, "tiny.yaml").family, "pixel-latent");
  test::expect_input_error([&] { model::parse_model_config(tiny + "family: voxel\n", "tiny.yaml"); }, "tiny.yaml",
                           "unknown model family 'voxel'");
}

TEST(Family, AFileLoadsAsItsFamilyAndToolsCanAskForIt) {
  std::unique_ptr<model::ModelFamily> m = model::load_model_file(test::tiny_model_file());
  EXPECT_EQ(m->config().family, "pixel-latent");
  const model::TalkingHeadModel& pixel = model::as_pixel_latent(*m, "this test");
  const int64_t size = m->config().image_size;
  EXPECT_EQ(m->frame_shape(size), (std::vector<int64_t>{m->config().vae.latent_channels,
                                                         pixel.config().latent_size(size), pixel.config().latent_size(size)}));
  EXPECT_TRUE(m->accepts_decode("direct"));
  EXPECT_FALSE(m->accepts_decode("sideways"));
}

}  // namespace
}  // namespace thg
