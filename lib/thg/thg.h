#pragma once
// THG as a library: the one header an application includes. Link the CMake target `thg_engine`.
//
//   #include <thg/thg.h>
//
//   thg::pipeline::LoadedModel model = thg::pipeline::load_model({});   // the bundled default
//   thg::pipeline::GenerateOptions options;
//   options.portrait = "photo.jpg";
//   options.audio = "speech.wav";
//   options.output = "out.mp4";            // or 'frames/%05d.png'
//   thg::pipeline::generate(*model.model, options);
//
// Frames instead of a file: pass any thg::io::FrameSink (thg::io::MemoryFrameSink keeps them) to
// generate(model, options, sink); decoded inputs instead of paths: generate(model, GenerateInputs,
// options, sink). The portrait stage alone (faces, alignment, paste-back) is thg::portrait.
// Every failure is a thg::Error (file, one-line reason, kind: bad input or failure).
// examples/generate_clip.cpp is a complete program.
#include "core/error.h"             // thg::Error, ErrorKind
#include "io/audio.h"               // AudioBuffer, decode_audio
#include "io/frame_sink.h"          // FrameSink, MemoryFrameSink, Mp4FrameSink, PngSequenceSink
#include "io/image.h"               // load_image, decode_image_rgba
#include "model/family.h"          // ModelFamily, load_model_file (engine/model_loader.h picks the default)
#include "jobs/batch.h"             // run_batch over a manifest
#include "engine/generate.h"        // GenerateOptions, GenerateInputs, generate
#include "engine/model_loader.h"  // ModelSource, load_model
#include "portrait/prepare.h"       // PortraitOptions, prepare_portrait, detect_faces
