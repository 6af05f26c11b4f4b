import { pointsFor } from './points';

describe('pointsFor', () => {
  it.each([
    [37.4, 37],
    [100, 100],
    [0.99, 0],
    [0, 0],
    [12.5 * 2 + 9.9 * 3, 54],
    [0.1 * 3 * 100, 30],
    [29.999999999999996, 30],
  ])('%p earns %p points', (amount, points) => {
    expect(pointsFor(amount)).toBe(points);
  });
});
