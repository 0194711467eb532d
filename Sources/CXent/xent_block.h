// The block length of the exp-and-sum loops: the float accumulators of one block are added into
// double ones at its end, so no float lane takes more than 512 / (lanes · accumulators) additions.
#ifndef XENT_BLOCK_H
#define XENT_BLOCK_H
#define XENT_CHUNK 512
#endif
