import { InProcessChangeBus } from './change-bus.js';
import { describeChangeBusContract } from './change-bus.contract.js';

describeChangeBusContract('in-process', async () => {
  const bus = new InProcessChangeBus();
  return [bus, bus];
});
