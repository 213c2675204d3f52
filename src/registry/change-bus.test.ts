import { describeChangeBusContract } from './change-bus.contract.js';
import { InProcessChangeBus } from './change-bus.js';

describeChangeBusContract('in-process', async () => {
  const bus = new InProcessChangeBus();
  return [bus, bus];
});
