// thg-train: trains THG's model from a recipe (configs/train/*.yaml) on a thg-synth dataset, on the
// CPU or a CUDA GPU, resumably; exports the shipped fp16 weights.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "core/cancel.h"
#include "core/device.h"
#include "core/error.h"
#include "core/failure_message.h"
#include "train/motion_trainer.h"
#include "train/trainer.h"

int main(int argc, char** argv) {
  CLI::App app{"thg-train: train the talking-head model (autoencoder, then UNet) from a recipe"};
  std::filesystem::path recipe, export_path;
  std::string stage = "all", device = "cpu";
  thg::train::TrainOptions o;
  bool fresh = false;
  app.add_option("--recipe", recipe, "Training recipe (configs/train/*.yaml)")->required();
  app.add_option("--dataset", o.dataset, "train.jsonl of a thg-synth dataset")->required();
  app.add_option("--out", o.out, "Run folder: checkpoints and stage results (resumed when present)")->required();
  app.add_option("--stage", stage, "vae, unet or all (pixel-latent recipes); motion-warp recipes have one stage")
      ->capture_default_str();
  app.add_option("--device", device, "cpu or cuda[:N]")->capture_default_str();
  app.add_option("--max-steps", o.max_steps_this_run, "Stop with a checkpoint after this many steps (time-boxed runs)");
  app.add_option("--export", export_path, "When training is complete, write the model here as fp16 safetensors");
  app.add_flag("--fresh", fresh, "Ignore checkpoints in --out and start the stage from scratch");
  CLI11_PARSE(app, argc, argv);
  thg::install_interrupt_handlers();
  try {
    o.recipe = thg::train::load_recipe(recipe);
    o.device = thg::select_device(device);
    o.resume = !fresh;
    bool complete = true;
    if (o.recipe.model.family == "motion-warp") {
      complete = thg::train::train_motion(o);
      if (complete && !export_path.empty()) {
        std::filesystem::copy_file(o.out / "motion.safetensors", export_path,
                                   std::filesystem::copy_options::overwrite_existing);
        std::printf("exported %s (fp16)\n", export_path.c_str());
      }
      return complete ? 0 : 75;
    }
    if (stage == "vae" || stage == "all") complete = thg::train::run_stage(o, "vae");
    if (complete && (stage == "unet" || stage == "all")) complete = thg::train::run_stage(o, "unet");
    if (stage != "vae" && stage != "unet" && stage != "all") throw thg::Error::input("", "--stage must be vae, unet or all");
    if (complete && !export_path.empty() && stage != "vae") {
      thg::train::export_model(o.out, o.recipe, export_path, c10::kHalf);
      std::printf("exported %s (fp16)\n", export_path.c_str());
    }
    return complete ? 0 : 75;  // 75 (EX_TEMPFAIL): stopped early by --max-steps; run again to continue
  } catch (const thg::Error& e) {
    std::fprintf(stderr, "thg-train: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    const std::string lower = "lower the recipe's batch or frames (or crop, for the VAE)";
    std::fprintf(stderr, "thg-train: %s\n", thg::failure_message(e, {lower, lower}).c_str());
    return 1;
  }
}
