#pragma once
// The motion-warp family's renderer: a frame's motion (model/motion.h) carried out on the
// portrait's own pixels. The face's 68 landmarks are moved as the motion says (lips, jaw, lids,
// brows, head), and every output pixel is fetched from where that motion brought it from:
//   - two smooth displacement fields, one for the face above the lips' meeting line and one for
//     the jaw below it, so that lips that open or close never smear into each other, and teeth the
//     photo shows move with their jaw (upper with the head, lower with the chin) and disappear
//     behind lips that press together;
//   - the mouth opening: where the moved inner lips uncover what the photo's own mouth did not
//     show, a dark cavity with upper teeth, in the photo's own lip colour and brightness;
//   - the head's small rotation, scale and shift, fading out towards the crop's border (which the
//     paste-back mask leaves to the photo).
// Nothing is rendered at a lower resolution and upscaled: the fields are smooth (computed on a
// coarse grid), the image is sampled at the crop's full size.
#include <ATen/core/Tensor.h>

#include "model/motion.h"
#include "portrait/face_detector.h"

namespace thg::model {

// Where the motion puts the face's landmarks (same pixels as `rest`). `with_head` false leaves out
// the head pose (the face's own movements only).
portrait::Landmarks move_landmarks(const portrait::Landmarks& rest, const MotionFrame& motion, bool with_head = true);

// The 68 landmarks of an average face placed on the model's face template (an aligned crop of
// `size` pixels): what the renderer assumes when the image is already a face crop (--no-crop) and
// no landmarks were measured. The mouth closed, 0.86 inter-ocular distances wide (the synthetic
// world's mean face, which the template also comes from).
portrait::Landmarks template_landmarks(double eye_y, double eye_distance, double mouth_y, int size);

// Landmarks as a float32 [68, 2] tensor (GenerateInputs, PortraitInput) and back.
at::Tensor landmarks_tensor(const portrait::Landmarks& landmarks);
portrait::Landmarks landmarks_from_tensor(const at::Tensor& landmarks);

// The inner lips' opening of a face in inter-ocular distances (mean over the three inner pairs).
double lip_opening(const portrait::Landmarks& face);

// image [3, S, S] float in [0, 1] (any device), its landmarks (pixels of that image), motion
// [n, kMotionChannels] -> frames [n, 3, S, S] float in [0, 1] on the image's device.
at::Tensor render_motion(const at::Tensor& image, const portrait::Landmarks& landmarks, const at::Tensor& motion);

}  // namespace thg::model
